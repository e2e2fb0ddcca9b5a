// docs/text-encoders.md
using LRCMT.LowRank;
using LRCMT.TextEncoders;

namespace LRCMT.Docs.Snippets;

internal static class TextEncoders
{
    internal static void LoadTokenizeAdapt()
    {
        // "bert-base-uncased" is a local folder (config.json, vocab.txt, model.safetensors); nothing is downloaded. Get one with
        // huggingface-cli download google-bert/bert-base-uncased --local-dir bert-base-uncased
        using var bert = BertModel.FromPretrained("bert-base-uncased");          // or OnnxBertImporter.Load("model.onnx")
        var tokenizer = BertTextTokenizer.FromVocabFile("bert-base-uncased/vocab.txt", lowerCase: true);
        LowRankInjector.Inject(bert, new LoRAConfig { Rank = 8, Alpha = 16, TargetModules = ["query", "value"] });
        using var batch = tokenizer.EncodeBatch(["The movie was great!", "Boring."], maxLength: 128);
        var output = bert.call(batch.InputIds, batch.AttentionMask, batch.TokenTypeIds);
    }

    internal static void TokenizeWithoutTorch()
    {
        var tokenizer = BertTextTokenizer.FromFolder("all-MiniLM-L6-v2");          // tokenizer.json or vocab.txt
        EncodedBatch encoded = tokenizer.Encode(["The movie was great!", "Boring."], maxLength: 128);
        long[] inputIds = encoded.InputIds;                                         // [BatchSize * SequenceLength], row-major
        long[] shape = encoded.Shape;                                               // [2, longest row]
    }
}
