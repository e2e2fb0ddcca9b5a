namespace LRCMT.TextEncoders.Tokenization;

/// <summary>
/// A vocabulary read backwards: the token string of each id (Hugging Face's <c>id_to_token</c>). Built on first use,
/// because only tools that show tokens (the CLI's attention maps) need it, and encoding never does.
/// </summary>
internal sealed class TokenStrings(IReadOnlyDictionary<string, int> vocabulary)
{
    private string?[]? byId;

    /// <summary>The token with <paramref name="id"/>, or null when no token has it.</summary>
    public string? Of(int id)
    {
        var table = byId ??= Build();
        return (uint)id < (uint)table.Length ? table[id] : null;
    }

    private string?[] Build()
    {
        var table = new string?[vocabulary.Count == 0 ? 0 : vocabulary.Values.Max() + 1];
        foreach (var (token, id) in vocabulary)
            if (id >= 0) table[id] = token;
        return table;
    }
}
