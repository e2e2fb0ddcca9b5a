namespace LRCMT.Data.Synthetic;

/// <summary>
/// English review sentences from templates: a graded sentiment word, optionally an intensifier before it and a
/// negation, which together give the text polarity p in [-3, 3]. Kept small on purpose: a pretrained encoder
/// fine-tuned for a few epochs must be able to read p off the sentence.
/// </summary>
internal static class SentimentSentences
{
    /// <summary>Sentiment words and their polarity on MOSI's scale.</summary>
    internal static readonly IReadOnlyList<(string Word, float Polarity)> Words =
    [
        ("wonderful", 2.5f), ("great", 2.0f), ("good", 1.5f), ("pleasant", 1.0f), ("decent", 0.5f),
        ("awful", -2.5f), ("bad", -2.0f), ("poor", -1.5f), ("dull", -1.0f), ("mediocre", -0.5f),
    ];

    /// <summary>Intensifiers and the factor they apply; null = no intensifier.</summary>
    internal static readonly IReadOnlyList<(string? Word, float Factor)> Intensifiers =
    [
        (null, 1.0f), (null, 1.0f), ("slightly", 0.5f), ("quite", 1.25f), ("very", 1.5f), ("extremely", 2.0f),
    ];

    private static readonly string[] Subjects =
        ["movie", "plot", "acting", "soundtrack", "ending", "dialogue", "cast", "pacing", "script", "camera work"];

    // {0} = subject, {1} = the adjective phrase ("not very good").
    private static readonly string[] Templates =
    [
        "The {0} was {1}.",
        "I found the {0} {1}.",
        "Honestly, the {0} is {1}.",
        "Overall the {0} felt {1}.",
        "In my opinion the {0} was {1}.",
        "I have to say the {0} seemed {1}.",
    ];

    /// <summary>One sentence with its polarity and the parts it was built from.</summary>
    internal readonly record struct Sentence(string Text, float Polarity, string Word, string? Intensifier, bool Negated);

    /// <summary>Draws one sentence; negation flips the sign, the intensifier scales the word's polarity.</summary>
    internal static Sentence Draw(Random random, double negationRate)
    {
        var (word, wordPolarity) = Words[random.Next(Words.Count)];
        var (intensifier, factor) = Intensifiers[random.Next(Intensifiers.Count)];
        bool negated = random.NextDouble() < negationRate;
        string subject = Subjects[random.Next(Subjects.Length)];
        string template = Templates[random.Next(Templates.Length)];

        string phrase = string.Join(' ', new[] { negated ? "not" : null, intensifier, word }.OfType<string>());
        float polarity = Math.Clamp(wordPolarity * factor * (negated ? -1f : 1f), -3f, 3f);
        return new Sentence(string.Format(template, subject, phrase), polarity, word, intensifier, negated);
    }
}
