using System.Diagnostics.Metrics;
using Sidecar.Http;
using Sidecar.Telemetry;

namespace Sidecar.Demo;

/// <summary>
/// Reads <c>sidecar_requests_total</c> as the demo's Sidecar records it (a <see cref="MeterListener"/> on that host's
/// meter only), per demo route: the requests whose caller got an answer and those answered with a 5xx. These are the
/// two sums of the README's error-ratio query, so the report can set Sidecar's own count beside what the callers saw.
/// </summary>
internal sealed class DemoRequestCounter : IDisposable
{
    private readonly MeterListener _listener;
    private readonly Lock _lock = new();
    private readonly IMeterFactory _scope;
    private long _total;
    private long _awaitedTotal = long.MaxValue;
    private TaskCompletionSource? _reached;
    private Counts _withRetries;
    private Counts _withoutRetries;

    public DemoRequestCounter(IMeterFactory scope)
    {
        _scope = scope;
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Name == SidecarMetrics.RequestsInstrumentName && ReferenceEquals(instrument.Meter.Scope, _scope))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _listener.SetMeasurementEventCallback<long>(OnMeasurement);
        _listener.Start();
    }

    /// <summary>Requests counted on either route so far.</summary>
    public long Total
    {
        get
        {
            lock (_lock)
            {
                return _total;
            }
        }
    }

    /// <summary>What the route's requests counted so far: answered (status class other than <c>none</c>) and 5xx.</summary>
    public (int Answered, int Failed) For(bool withRetries)
    {
        lock (_lock)
        {
            var counts = withRetries ? _withRetries : _withoutRetries;
            return (counts.Answered, counts.Failed);
        }
    }

    /// <summary>
    /// Completes once <paramref name="total"/> requests are counted. Sidecar records a request just after its response
    /// went out, so a caller holding the answer may be a moment ahead of the count.
    /// </summary>
    public Task WhenTotalReachesAsync(long total)
    {
        lock (_lock)
        {
            if (_total >= total)
            {
                return Task.CompletedTask;
            }

            _awaitedTotal = total;
            _reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _reached.Task;
        }
    }

    /// <summary>Starts the counts again from 0 (after the warm-up).</summary>
    public void Reset()
    {
        lock (_lock)
        {
            _withRetries = default;
            _withoutRetries = default;
        }
    }

    public void Dispose() => _listener.Dispose();

    private void OnMeasurement(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        string? route = null;
        string? statusClass = null;
        foreach (var tag in tags)
        {
            if (tag.Key == MetricTags.Route)
            {
                route = tag.Value as string;
            }
            else if (tag.Key == MetricTags.StatusClass)
            {
                statusClass = tag.Value as string;
            }
        }

        lock (_lock)
        {
            if (route == DemoPolicy.WithRetriesRoute)
            {
                _withRetries = _withRetries.Add(statusClass, value);
            }
            else if (route == DemoPolicy.WithoutRetriesRoute)
            {
                _withoutRetries = _withoutRetries.Add(statusClass, value);
            }

            _total += value;
            if (_total >= _awaitedTotal)
            {
                _reached?.TrySetResult();
            }
        }
    }

    private readonly record struct Counts(int Answered, int Failed)
    {
        public Counts Add(string? statusClass, long value) => statusClass == StatusClass.None
            ? this
            : new Counts(Answered + (int)value, Failed + (statusClass == StatusClass.Of(500) ? (int)value : 0));
    }
}
