namespace LRCMT.Errors;

/// <summary>
/// Base class of every exception LRCMT.Lib throws on purpose. Catch this to handle any library error;
/// catch a subclass to handle one kind of problem.
/// </summary>
public class LrcmtException : Exception
{
    /// <summary>Creates the exception with a message that names the problem.</summary>
    public LrcmtException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and the lower-level cause.</summary>
    public LrcmtException(string message, Exception? inner) : base(message, inner) { }
}
