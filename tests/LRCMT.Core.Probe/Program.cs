using LRCMT.TextEncoders;

// Usage: LRCMT.Core.Probe <bert-folder> <roberta-folder>
// Tokenizes with both tokenizers through LRCMT.Core only, then reports what this process has mapped: the ids, then
// "libtorch: no" / "libtorch: yes <line>" from /proc/self/maps and the TorchSharp assemblies loaded (none expected).
var bert = BertTextTokenizer.FromFolder(args[0]).Encode(["The movie was GREAT!", "boring ."], 16);
var roberta = RobertaTextTokenizer.FromFolder(args[1]).Encode(["Hello world", "a <mask> b"], 16);
Console.WriteLine("bert: " + string.Join(",", bert.InputIds));
Console.WriteLine("roberta: " + string.Join(",", roberta.InputIds));
var libtorch = File.ReadLines("/proc/self/maps").FirstOrDefault(l => l.Contains("libtorch", StringComparison.OrdinalIgnoreCase));
Console.WriteLine(libtorch is null ? "libtorch: no" : "libtorch: yes " + libtorch);
var torchSharp = AppDomain.CurrentDomain.GetAssemblies().Select(a => a.GetName().Name).Where(n => n?.Contains("TorchSharp", StringComparison.Ordinal) == true);
Console.WriteLine("assemblies: " + string.Join(",", torchSharp.DefaultIfEmpty("no TorchSharp")));
return 0;
