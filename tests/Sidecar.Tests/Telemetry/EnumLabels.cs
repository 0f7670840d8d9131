namespace Sidecar.Tests.Telemetry;

/// <summary>Checks a label mapping of an enum: every value has its own non-empty label, and the list has no other.</summary>
internal static class EnumLabels
{
    public static void AssertDistinctAndComplete<TEnum>(Func<TEnum, string> label, IReadOnlyList<string> all)
        where TEnum : struct, Enum
    {
        var values = Enum.GetValues<TEnum>();
        var labels = values.Select(label).ToArray();

        Assert.All(labels, l => Assert.False(string.IsNullOrWhiteSpace(l)));
        Assert.Equal(labels.Length, labels.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(all, labels);
    }
}
