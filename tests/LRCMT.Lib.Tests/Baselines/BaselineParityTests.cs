using FluentAssertions;
using LRCMT.Baselines;
using LRCMT.Checkpoints;
using LRCMT.Data;
using LRCMT.TextEncoders;
using LRCMT.Tests.TestSupport;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.Baselines;

/// <summary>
/// Forward parity of every baseline with its reference written from the paper's equations (Fixtures/baselines,
/// make_baselines.py): the reference's weights are loaded strictly under the C# names and the outputs must agree within
/// 1e-5 on inputs with unaligned lengths, garbage in the padding and a stream that is all padding for one sample.
/// </summary>
public sealed class BaselineParityTests
{
    private const double Tolerance = 1e-5;

    [Fact]
    public void MulT_matches_its_reference_within_1e_5()
    {
        using var fixture = new BaselineFixture("mult.safetensors");
        using var body = new MulTFusion(BaselineFixture.Text, BaselineFixture.Acoustic, BaselineFixture.Visual, 1, BaselineFixture.MulT);
        CheckBody(fixture, body);
    }

    [Fact]
    public void Tfn_matches_its_reference_within_1e_5()
    {
        using var fixture = new BaselineFixture("tfn.safetensors");
        using var body = new TfnFusion(BaselineFixture.Text, BaselineFixture.Acoustic, BaselineFixture.Visual, 3, BaselineFixture.Tfn);
        CheckBody(fixture, body);
    }

    [Fact]
    public void Lmf_matches_its_reference_within_1e_5()
    {
        using var fixture = new BaselineFixture("lmf.safetensors");
        using var body = new LmfFusion(BaselineFixture.Text, BaselineFixture.Acoustic, BaselineFixture.Visual, 1, BaselineFixture.Lmf);
        CheckBody(fixture, body);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void Mag_bert_matches_its_reference_within_1e_5_wherever_the_gate_sits(int injectionLayer)
    {
        using var fixture = new BaselineFixture("mag.safetensors");
        using var model = new MagBertModel(BertModel.FromPretrained(Fixtures.TinyBertFolder), acousticFeatures: 5, visualFeatures: 3, outputs: 1,
            new MagSettings { InjectionLayer = injectionLayer, BetaShift = 0.5 });
        // The encoder keeps the tiny-bert weights it was loaded with; the fixture holds the gate and the output layer.
        fixture.LoadInto(model, new StateDictLoadOptions(key => key.StartsWith("text_encoder.", StringComparison.Ordinal), _ => false));
        model.eval();

        using var _ = no_grad();
        using var batch = MagBatch(fixture);
        using var output = model.call(batch);

        var error = BaselineFixture.MaxAbsDifference(output, fixture[$"expected.output_after_{injectionLayer}"]);
        TestContext.Current.TestOutputHelper?.WriteLine($"MAG-BERT, gate after {injectionLayer} layers: max |y - y_ref| = {error:E2}");
        error.Should().BeLessThan(Tolerance);
        BaselineFixture.MaxAbsDifference(output, fixture["expected.output_without_gate"]).Should().BeGreaterThan(1e-3, "the gate must change the prediction");
    }

    [Fact]
    public void Mag_resampling_puts_the_reference_frames_on_the_tokens()
    {
        using var fixture = new BaselineFixture("mag.safetensors");
        var textMask = fixture["input.attention_mask"];
        using var acoustic = TextTimeResampling.ToText(fixture["input.acoustic"], fixture["input.acoustic_mask"], textMask, NonverbalAlignment.ResampleToText, "acoustic");
        using var visual = TextTimeResampling.ToText(fixture["input.visual"], fixture["input.visual_mask"], textMask, NonverbalAlignment.ResampleToText, "visual");

        BaselineFixture.MaxAbsDifference(acoustic, fixture["expected.acoustic_on_text"]).Should().BeLessThan(1e-6);
        BaselineFixture.MaxAbsDifference(visual, fixture["expected.visual_on_text"]).Should().BeLessThan(1e-6);
    }

    private static void CheckBody(BaselineFixture fixture, FusionBody body)
    {
        fixture.LoadInto(body);
        body.eval();
        using var _ = no_grad();
        var (text, acoustic, visual) = fixture.Streams();
        using var output = body.call(text, acoustic, visual);

        var error = BaselineFixture.MaxAbsDifference(output, fixture["expected.output"]);
        TestContext.Current.TestOutputHelper?.WriteLine($"{body.GetType().Name}: max |y - y_ref| = {error:E2} over {output.numel()} outputs");
        output.shape.Should().Equal(fixture["expected.output"].shape);
        error.Should().BeLessThan(Tolerance);
    }

    internal static MultimodalBatch MagBatch(BaselineFixture fixture) => new(
        fixture["input.input_ids"], fixture["input.attention_mask"], fixture["input.token_type_ids"],
        fixture["input.acoustic"], fixture["input.acoustic_mask"], fixture["input.visual"], fixture["input.visual_mask"],
        Labels: null, Ids: ["a", "b"]);
}
