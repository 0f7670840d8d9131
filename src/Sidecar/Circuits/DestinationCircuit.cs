using Sidecar.Configuration;

namespace Sidecar.Circuits;

/// <summary>
/// The circuit breaker of one destination. Closed: requests flow and outcomes are counted in one-second buckets over
/// <see cref="CircuitBreakerOptions.Window"/>. When at least <see cref="CircuitBreakerOptions.MinimumRequests"/> were
/// seen and the failure ratio reaches <see cref="CircuitBreakerOptions.FailureRatio"/>, it opens for
/// <see cref="CircuitBreakerOptions.BreakDuration"/>: no request is sent there. Then one probe is let through
/// (half-open): success closes it with a fresh window, failure opens it again.
/// Counting is lock-free and approximate (a bucket reset may race with an increment), which a statistical breaker
/// tolerates; state changes are compare-and-swap.
/// </summary>
internal sealed class DestinationCircuit
{
    private const int Closed = 0;
    private const int Open = 1;
    private const int HalfOpen = 2;

    private readonly CircuitBreakerOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly int _windowSeconds;
    private readonly long[] _bucketSecond;
    private readonly long[] _successes;
    private readonly long[] _failures;
    private int _state;
    private long _openUntil;
    private int _probeTaken;

    public DestinationCircuit(CircuitBreakerOptions options, TimeProvider timeProvider)
    {
        _options = options;
        _timeProvider = timeProvider;
        _windowSeconds = Math.Clamp((int)Math.Ceiling(options.Window.TotalSeconds), 1, 600);
        _bucketSecond = new long[_windowSeconds];
        _successes = new long[_windowSeconds];
        _failures = new long[_windowSeconds];
        Array.Fill(_bucketSecond, -1);
    }

    public bool IsClosed => Volatile.Read(ref _state) == Closed;

    public CircuitState State => (CircuitState)Volatile.Read(ref _state);

    /// <summary>
    /// May a request go to this destination now? <paramref name="isProbe"/> is true when this request is the single
    /// half-open probe; the caller must then report it with <see cref="Record"/> or <see cref="ReleaseProbe"/>.
    /// </summary>
    public bool TryAllow(out bool isProbe)
    {
        isProbe = false;
        var state = Volatile.Read(ref _state);
        if (state == Closed)
        {
            return true;
        }

        if (state == Open)
        {
            if (_timeProvider.GetTimestamp() < Volatile.Read(ref _openUntil))
            {
                return false;
            }

            Interlocked.CompareExchange(ref _state, HalfOpen, Open);
        }

        if (Interlocked.CompareExchange(ref _probeTaken, 1, 0) == 0)
        {
            isProbe = true;
            return true;
        }

        return false;
    }

    /// <summary>The probe was granted but the load balancer sent the request elsewhere.</summary>
    public void ReleaseProbe() => Volatile.Write(ref _probeTaken, 0);

    /// <summary>Counts one outcome; returns true when this outcome opened the circuit.</summary>
    public bool Record(bool failure, bool wasProbe)
    {
        if (wasProbe)
        {
            if (failure)
            {
                Trip();
                Volatile.Write(ref _probeTaken, 0);
                return true;
            }

            ResetWindow();
            Volatile.Write(ref _state, Closed);
            Volatile.Write(ref _probeTaken, 0);
            return false;
        }

        var second = _timeProvider.GetTimestamp() / _timeProvider.TimestampFrequency;
        var index = (int)(second % _windowSeconds);
        if (Interlocked.Exchange(ref _bucketSecond[index], second) != second)
        {
            // A new second took over this bucket: start it from zero.
            Interlocked.Exchange(ref _successes[index], 0);
            Interlocked.Exchange(ref _failures[index], 0);
        }

        Interlocked.Increment(ref failure ? ref _failures[index] : ref _successes[index]);
        if (!failure || Volatile.Read(ref _state) != Closed)
        {
            return false;
        }

        long successes = 0, failures = 0;
        for (var i = 0; i < _windowSeconds; i++)
        {
            if (second - Volatile.Read(ref _bucketSecond[i]) < _windowSeconds)
            {
                successes += Volatile.Read(ref _successes[i]);
                failures += Volatile.Read(ref _failures[i]);
            }
        }

        var total = successes + failures;
        if (total < _options.MinimumRequests || failures < _options.FailureRatio * total)
        {
            return false;
        }

        if (Interlocked.CompareExchange(ref _state, Open, Closed) != Closed)
        {
            return false;
        }

        Volatile.Write(ref _openUntil, _timeProvider.GetTimestamp() + (long)(_options.BreakDuration.TotalSeconds * _timeProvider.TimestampFrequency));
        return true;
    }

    private void Trip()
    {
        Volatile.Write(ref _openUntil, _timeProvider.GetTimestamp() + (long)(_options.BreakDuration.TotalSeconds * _timeProvider.TimestampFrequency));
        Volatile.Write(ref _state, Open);
    }

    private void ResetWindow()
    {
        for (var i = 0; i < _windowSeconds; i++)
        {
            Volatile.Write(ref _bucketSecond[i], -1);
            Volatile.Write(ref _successes[i], 0);
            Volatile.Write(ref _failures[i], 0);
        }
    }
}

internal enum CircuitState
{
    Closed = 0,
    Open = 1,
    HalfOpen = 2,
}
