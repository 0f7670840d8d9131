namespace Sidecar.FunctionalTests.Faults;

/// <summary>
/// The config of the fault tests that run each case on the three kinds of route, all to one destination: a route
/// with a retry policy (<c>/p/</c>), a hedged route (<c>/h/</c>) and a route without a policy (<c>/n/</c>).
/// </summary>
internal static class ThreeRoutes
{
    /// <param name="destination">The upstream's URL.</param>
    /// <param name="policyRetryOn">The <c>retry_on</c> of the <c>/p/</c> route's policy.</param>
    public static string Config(string destination, string policyRetryOn = "{ status: [503] }") => $$"""
        clusters:
          app: { destinations: [{{destination}}] }
        policies:
          p:
            max_attempts: 3
            backoff: { algorithm: constant, base: 5ms, max: 5ms, jitter: none }
            retry_on: {{policyRetryOn}}
            timeout: 10s
          h:
            max_attempts: 2
            retry_on: { status: [503] }
            timeout: 10s
            hedge: { delay: 5s, max_extra: 1 }
        routes:
          - name: policy
            match: { path: "/p/{**rest}" }
            cluster: app
            policy: p
          - name: hedged
            match: { path: "/h/{**rest}" }
            cluster: app
            policy: h
          - name: plain
            match: { path: "/n/{**rest}" }
            cluster: app
        """;
}
