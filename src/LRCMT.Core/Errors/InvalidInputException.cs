namespace LRCMT.Errors;

/// <summary>
/// An input tensor has the right shape but unusable contents or element type: a float tensor where ids are
/// expected, a token id outside the vocabulary, a token type id outside the type table.
/// Shape problems throw <see cref="ShapeMismatchException"/> instead.
/// </summary>
public sealed class InvalidInputException : LrcmtException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="what">The input, e.g. "input ids".</param>
    /// <param name="problem">What is wrong with it, with the offending and the allowed values.</param>
    public InvalidInputException(string what, string problem)
        : base($"{what}: {problem}")
    {
        What = what;
        Problem = problem;
    }

    /// <summary>The input that is wrong.</summary>
    public string What { get; }

    /// <summary>What is wrong with it.</summary>
    public string Problem { get; }
}
