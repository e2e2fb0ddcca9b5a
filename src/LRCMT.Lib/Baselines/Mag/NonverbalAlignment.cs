namespace LRCMT.Baselines;

/// <summary>How <see cref="MagBertModel"/> lines the acoustic and visual frames up with the text tokens its gate shifts.</summary>
public enum NonverbalAlignment
{
    /// <summary>
    /// Each real token gets the average of the frames that fall in its share of the clip: the clip's real frames and real
    /// tokens are both spread evenly over [0, 1), token i of n covers [i/n, (i+1)/n), and frame j of m sits at
    /// (j + ½)/m. A token that no frame falls in (more tokens than frames) takes the frame nearest its centre. Data that
    /// is already word-aligned (as many real frames as real tokens) comes out unchanged; unaligned data needs no
    /// preprocessing.
    /// </summary>
    ResampleToText,

    /// <summary>
    /// Frame i belongs to token i (MMSA's aligned data, where every stream has the text's length): the streams must be
    /// exactly as long as the text, and padded frames count as zeros.
    /// </summary>
    AsGiven,
}
