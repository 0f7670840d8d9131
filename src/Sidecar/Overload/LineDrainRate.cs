namespace Sidecar.Overload;

/// <summary>
/// How fast the line of requests waiting for a slot moves: slots handed to it a second, over at most the last
/// <see cref="Window"/> of time in which someone waited. A newcomer's expected wait is its place in line divided by
/// that rate (<see cref="ExpectedWait"/>).
/// </summary>
/// <remarks>
/// Time with nobody waiting does not count: the line does not move then because no one is in it, not because it is
/// slow; nor does time while memory pressure holds it (<see cref="Held"/>). The rate is measured from the first hand-off, not from when the first line formed: requests let in together
/// (a burst) end together and hand their slots over in waves, and counting the time before the first wave would make
/// the line look slower than it is and refuse callers it would serve. So the estimate errs high, and a refusal on it is
/// one the wait bound would have made anyway, only later. Not thread-safe: <see cref="RequestAdmission"/> calls it
/// under its lock.
/// </remarks>
internal sealed class LineDrainRate
{
    /// <summary>The rate is measured over at most this long, so it follows an upstream that slows down or recovers.</summary>
    internal static readonly TimeSpan Window = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Hand-offs counted before the rate is trusted: two are one interval, and one request that ended early (a fast
    /// error) followed by a wave seconds later made a 256 MiB pod's line look 100 times slower than it was.
    /// </summary>
    internal const int MinHandOffs = 16;

    private readonly TimeProvider _timeProvider;
    private readonly long _window;
    // The start of the measured time (0: no hand-off seen yet), moved on by the stretches the clock stood still, and
    // the hand-offs since it (not counting the first).
    private long _since;
    private double _handed;
    // Hand-offs seen in all (the window scales _handed down, not this).
    private int _seen;
    // The clock stands still while nobody waits or memory pressure holds the line; _stoppedAt: since when (0: it runs).
    private bool _empty = true;
    private bool _held;
    private long _stoppedAt;

    public LineDrainRate(TimeProvider timeProvider)
    {
        _timeProvider = timeProvider;
        _window = (long)(Window.TotalSeconds * timeProvider.TimestampFrequency);
    }

    /// <summary>A request joined the line; <paramref name="formed"/>: it was empty before.</summary>
    public void Joined(bool formed)
    {
        if (formed)
        {
            _empty = false;
            StartOrStop();
        }
    }

    /// <summary>The last request in line left it (let in, refused or gone).</summary>
    public void Emptied()
    {
        _empty = true;
        StartOrStop();
    }

    /// <summary>
    /// Memory pressure holds the line (no slot is handed over at <c>reject_requests</c>) or lets it go: the line does
    /// not move then because memory is short, not because slots free slowly, and counting that time would refuse
    /// callers it serves once pressure falls.
    /// </summary>
    public void Held(bool held)
    {
        _held = held;
        StartOrStop();
    }

    /// <summary>A slot went to a request in line.</summary>
    public void HandedOff()
    {
        var now = _timeProvider.GetTimestamp();
        if (_since == 0)
        {
            _since = now;
            return;
        }

        _handed++;
        if (_seen < MinHandOffs)
        {
            _seen++;
        }

        var span = now - _since;
        if (span > _window)
        {
            // Keep the last window's worth, at the rate measured so far.
            _handed *= _window / (double)span;
            _since = now - _window;
        }
    }

    /// <summary>
    /// How long a request joining the line behind <paramref name="ahead"/> others would wait for its slot at the rate
    /// measured; null while there is no rate yet (fewer than <see cref="MinHandOffs"/> seen), when it must not be
    /// refused on it.
    /// </summary>
    public TimeSpan? ExpectedWait(int ahead)
    {
        if (_since == 0 || _seen < MinHandOffs || _handed <= 0)
        {
            return null;
        }

        var end = _stoppedAt != 0 ? _stoppedAt : _timeProvider.GetTimestamp();
        var seconds = (end - _since) / (double)_timeProvider.TimestampFrequency;
        return seconds <= 0 ? null : TimeSpan.FromSeconds((ahead + 1) * seconds / _handed);
    }

    private void StartOrStop()
    {
        var stopped = _empty || _held;
        if (stopped && _stoppedAt == 0)
        {
            _stoppedAt = _timeProvider.GetTimestamp();
        }
        else if (!stopped && _stoppedAt != 0)
        {
            if (_since != 0)
            {
                _since += _timeProvider.GetTimestamp() - _stoppedAt;
            }

            _stoppedAt = 0;
        }
    }
}
