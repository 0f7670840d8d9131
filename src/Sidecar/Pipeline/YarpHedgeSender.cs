using System.IO.Pipelines;
using Sidecar.BodyReplay;
using Sidecar.Forwarding;
using Sidecar.Hedging;
using Sidecar.Http;
using Sidecar.Retries;
using Sidecar.Routing;
using Sidecar.Telemetry;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Sidecar.Pipeline;

/// <summary>
/// <see cref="IHedgeSender"/> in the proxy: each hedged attempt is forwarded by YARP's <see cref="IHttpForwarder"/>
/// (with the route's transforms, where <see cref="RetryResponseTransform"/> has its response decided) on a
/// <see cref="ShadowHttpContext"/> whose response body is a pipe, so the caller's response is untouched until the
/// winner's status, headers and body are relayed to it. Attempts pick their destination themselves rather than
/// through YARP's load balancer, so they do not feed passive health checks. One per hedged request.
/// </summary>
internal sealed class YarpHedgeSender : IHedgeSender
{
    private readonly IHttpForwarder _forwarder;
    private readonly HttpContext _context;
    private readonly IReverseProxyFeature _proxyFeature;
    private readonly RoutePlan _route;
    private readonly ReplayableRequestBody? _body;
    private readonly IReadOnlyList<DestinationState> _destinations;
    private readonly List<ShadowAttempt> _attempts = new(2);

    public YarpHedgeSender(IHttpForwarder forwarder, HttpContext context, IReverseProxyFeature proxyFeature, RoutePlan route, ReplayableRequestBody? body)
    {
        _forwarder = forwarder;
        _context = context;
        _proxyFeature = proxyFeature;
        _route = route;
        _body = body;
        _destinations = proxyFeature.AvailableDestinations;
    }

    public int DestinationCount => _destinations.Count;

    public async ValueTask<SentAttempt> SendAsync(RetryState attempt, int destination, CancellationToken attemptAborted)
    {
        var responseBody = new Pipe();
        var shadow = ShadowHttpContext.Create(_context, _body, attempt, responseBody, attemptAborted);
        lock (_attempts)
        {
            _attempts.Add(new ShadowAttempt(attempt.Attempt, shadow, responseBody));
        }

        var address = _destinations[destination].Model.Config.Address;
        var cluster = _proxyFeature.Cluster;
        var error = ForwarderError.None;
        try
        {
            error = await _forwarder.SendAsync(shadow, address, cluster.HttpClient, cluster.Config.HttpRequest ?? ForwarderRequestConfig.Empty, _proxyFeature.Route.Transformer);
        }
        finally
        {
            await responseBody.Writer.CompleteAsync();
        }

        var invalid = shadow.Features.Get<InvalidUpstreamResponse>() is not null;
        var exception = shadow.Features.Get<IForwarderErrorFeature>()?.Exception;
        var failure = error == ForwarderError.None ? null
            : new TransportFailure(TransportErrorClassifier.Classify(error, exception, timedOut: false), error.ToString(), exception?.Message ?? string.Empty);
        return new SentAttempt(shadow.Response.StatusCode, failure, invalid, address);
    }

    public async Task<bool> RelayAsync(RetryState winner, Task<SentAttempt> ended, int attempts, CancellationToken requestAborted)
    {
        var shadow = Find(winner.Attempt);
        var source = shadow.Context.Response;
        var response = _context.Response;
        response.StatusCode = source.StatusCode;
        foreach (var header in source.Headers)
        {
            response.Headers[header.Key] = header.Value;
        }

        response.Headers[SidecarHeaders.Attempts] = SidecarHeaders.Number(attempts);
        try
        {
            await shadow.Body.Reader.CopyToAsync(response.Body, requestAborted);
        }
        catch (OperationCanceledException) when (requestAborted.IsCancellationRequested)
        {
            return false;
        }

        if ((await ended).Failure is not null && !requestAborted.IsCancellationRequested)
        {
            // The winner's body broke off after its headers were sent: the caller must not take it as complete.
            _context.Abort();
        }

        return true;
    }

    public Task AnswerAsync(LoopAnswer answer, int attempts, RequestOutcome outcome, bool timedOut)
    {
        var route = _route.RouteName;
        return answer == LoopAnswer.InvalidResponse ? ErrorAnswers.InvalidResponseAsync(_context, route, attempts)
            : _destinations.Count == 0 ? ProblemResponse.WriteAsync(_context, StatusCodes.Status503ServiceUnavailable, "No healthy upstream destination", route, attempts, outcome.Label())
            : timedOut ? ErrorAnswers.TimedOutAsync(_context, route, attempts, outcome)
            : ProblemResponse.WriteAsync(_context, StatusCodes.Status502BadGateway, "No usable response from any hedged attempt", route, attempts, outcome.Label());
    }

    private ShadowAttempt Find(int number)
    {
        lock (_attempts)
        {
            return _attempts.Find(a => a.Number == number) ?? throw new InvalidOperationException($"Hedged attempt {number} was never sent.");
        }
    }

    /// <summary>A hedged attempt's context and the pipe its response body goes into.</summary>
    private sealed record ShadowAttempt(int Number, HttpContext Context, Pipe Body);
}
