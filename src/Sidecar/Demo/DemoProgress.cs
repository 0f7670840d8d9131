using System.Globalization;

namespace Sidecar.Demo;

/// <summary>
/// Progress while traffic runs, on stderr: a bar redrawn in place on a terminal, otherwise (CI logs, pipes) one line
/// every two seconds.
/// </summary>
internal sealed class DemoProgress
{
    private const int Width = 30;
    private static readonly TimeSpan LineInterval = TimeSpan.FromSeconds(2);

    private readonly TextWriter _output;
    private readonly bool _interactive;
    private readonly TimeSpan _duration;
    private TimeSpan _nextLine = LineInterval;

    public DemoProgress(TextWriter output, bool interactive, TimeSpan duration)
    {
        _output = output;
        _interactive = interactive;
        _duration = duration;
    }

    public void Update(TimeSpan elapsed, int requests)
    {
        if (_interactive)
        {
            var filled = (int)(Width * Math.Clamp(elapsed / _duration, 0, 1));
            _output.Write(string.Create(CultureInfo.InvariantCulture,
                $"\r[{new string('#', filled)}{new string('.', Width - filled)}] {elapsed.TotalSeconds,4:0.0}/{_duration.TotalSeconds:0.0} s  {requests} requests "));
            _output.Flush();
        }
        else if (elapsed >= _nextLine)
        {
            _nextLine += LineInterval;
            _output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"demo: {elapsed.TotalSeconds:0}/{_duration.TotalSeconds:0} s, {requests} requests"));
        }
    }

    /// <summary>Ends the bar's line so the report starts on a clean one.</summary>
    public void Complete(TimeSpan elapsed, int requests)
    {
        if (_interactive)
        {
            Update(elapsed, requests);
            _output.WriteLine();
        }
    }
}
