namespace Sidecar.Simulation;

/// <summary>
/// The upstream of a simulation, after its <see cref="UpstreamModel"/>: each arriving attempt draws its answer and its
/// service time, is served at once while fewer than <see cref="UpstreamModel.Capacity"/> are, else waits in a FIFO
/// queue, and is answered when its service ends. During an outage connections are refused at once.
/// </summary>
internal sealed class SimulatedUpstream
{
    private readonly UpstreamModel _model;
    private readonly VirtualClock _clock;
    private readonly Random _random;
    private readonly Queue<(UpstreamCall Call, long Service)> _queue = new();
    private readonly Action<object?> _serviceEnded;
    private int _busy;

    public SimulatedUpstream(UpstreamModel model, VirtualClock clock, Random random)
    {
        _model = model;
        _clock = clock;
        _random = random;
        _serviceEnded = ServiceEnded;
    }

    /// <summary>Attempts that reached the upstream (refused connections excluded), since the start.</summary>
    public long Requests { get; private set; }

    /// <summary>Of <see cref="Requests"/>, those answered 2xx.</summary>
    public long Successes { get; private set; }

    /// <summary>Requests at the upstream now: in service and queued.</summary>
    public int InFlight => _busy + _queue.Count;

    /// <summary>The most <see cref="InFlight"/> since <see cref="TakePeak"/> was last called.</summary>
    public int Peak { get; private set; }

    public int TakePeak()
    {
        var peak = Peak;
        Peak = InFlight;
        return peak;
    }

    public void Arrive(UpstreamCall call)
    {
        if (_model.Outage is { } outage && outage.Covers(_clock.Elapsed))
        {
            call.Answer(new UpstreamAnswer(UpstreamAnswerKind.Refused));
            return;
        }

        Requests++;
        var (answer, service) = Draw();
        call.Drawn = answer;
        if (_model.Capacity == 0 || _busy < _model.Capacity)
        {
            Serve(call, service);
        }
        else
        {
            _queue.Enqueue((call, service));
        }

        Peak = Math.Max(Peak, InFlight);
    }

    private (UpstreamAnswer Answer, long Service) Draw()
    {
        var roll = _random.NextDouble();
        var latency = _model.Latency.Sample(_random.NextDouble(), _random.NextDouble()).Ticks;
        if (roll < _model.FailureRate)
        {
            var retryAfter = _model.RetryAfter?.Sample(_random.NextDouble());
            return (new UpstreamAnswer(UpstreamAnswerKind.Response, _model.FailureStatus, retryAfter), latency);
        }

        roll -= _model.FailureRate;
        if (roll < _model.ResetRate)
        {
            return (new UpstreamAnswer(UpstreamAnswerKind.Reset), latency);
        }

        roll -= _model.ResetRate;
        return (new UpstreamAnswer(UpstreamAnswerKind.Response, StatusCodes.Status200OK), roll < _model.SlowRate ? _model.SlowDelay.Ticks : latency);
    }

    private void Serve(UpstreamCall call, long service)
    {
        _busy++;
        _clock.Schedule(_clock.Now + service, _serviceEnded, call);
    }

    private void ServiceEnded(object? state)
    {
        var call = (UpstreamCall)state!;
        _busy--;
        // The next in the queue takes the place before the answer goes out, so a caller that comes straight back
        // joins the end of the queue.
        if (_queue.TryDequeue(out var next))
        {
            Serve(next.Call, next.Service);
        }

        // An abandoned attempt was served all the same (the upstream does not know its caller left), but its answer
        // reached nobody, so it is not a success.
        if (call.Answer(call.Drawn) && call.Drawn.Status is >= 200 and < 300)
        {
            Successes++;
        }
    }
}
