using System.Buffers;
using System.Globalization;
using System.Text;

namespace Sidecar.Telemetry;

/// <summary>
/// Writes the Prometheus text exposition format 0.0.4 as UTF-8 into an <see cref="IBufferWriter{T}"/>.
/// See https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format.
/// </summary>
internal sealed class PrometheusTextWriter
{
    private const int MaxNumberLength = 32;

    private readonly IBufferWriter<byte> _output;

    public PrometheusTextWriter(IBufferWriter<byte> output)
    {
        _output = output;
    }

    public void WriteHelpAndType(string name, string? help, string type)
    {
        if (!string.IsNullOrEmpty(help))
        {
            Write("# HELP ");
            Write(name);
            Write(" ");
            Write(EscapeHelp(help));
            Write("\n");
        }

        Write("# TYPE ");
        Write(name);
        Write(" ");
        Write(type);
        Write("\n");
    }

    /// <summary>Writes <c>name{labels} </c>, or <c>name </c> without labels.</summary>
    public void WriteSeriesStart(string name, string labels)
    {
        Write(name);
        if (labels.Length > 0)
        {
            Write("{");
            Write(labels);
            Write("}");
        }

        Write(" ");
    }

    /// <summary>Writes <c>name{labels,le="bound"} </c> for a histogram bucket.</summary>
    public void WriteBucketStart(string name, string labels, string le)
    {
        Write(name);
        Write("{");
        if (labels.Length > 0)
        {
            Write(labels);
            Write(",");
        }

        Write("le=\"");
        Write(le);
        Write("\"} ");
    }

    public void WriteValue(long value)
    {
        var span = _output.GetSpan(MaxNumberLength);
        value.TryFormat(span, out var written, default, CultureInfo.InvariantCulture);
        _output.Advance(written);
        Write("\n");
    }

    public void WriteValue(double value)
    {
        Write(FormatDouble(value));
        Write("\n");
    }

    public void Write(string text)
    {
        Encoding.UTF8.GetBytes(text.AsSpan(), _output);
    }

    /// <summary>Formats a sample value or bucket bound: invariant, shortest round-trip, <c>+Inf</c>/<c>-Inf</c>/<c>NaN</c>.</summary>
    public static string FormatDouble(double value)
    {
        if (double.IsPositiveInfinity(value))
        {
            return "+Inf";
        }

        if (double.IsNegativeInfinity(value))
        {
            return "-Inf";
        }

        if (double.IsNaN(value))
        {
            return "NaN";
        }

        return value.ToString("R", CultureInfo.InvariantCulture);
    }

    /// <summary>Label values escape backslash, double quote and line feed.</summary>
    public static void AppendEscapedLabelValue(StringBuilder builder, string value)
    {
        foreach (var c in value)
        {
            switch (c)
            {
                case '\\':
                    builder.Append(@"\\");
                    break;
                case '"':
                    builder.Append("\\\"");
                    break;
                case '\n':
                    builder.Append(@"\n");
                    break;
                default:
                    builder.Append(c);
                    break;
            }
        }
    }

    /// <summary>HELP text escapes backslash and line feed (not double quotes).</summary>
    public static string EscapeHelp(string help)
    {
        if (help.AsSpan().IndexOfAny('\\', '\n') < 0)
        {
            return help;
        }

        return help.Replace(@"\", @"\\", StringComparison.Ordinal).Replace("\n", @"\n", StringComparison.Ordinal);
    }
}
