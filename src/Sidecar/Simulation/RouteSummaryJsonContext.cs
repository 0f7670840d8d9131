using System.Text.Json.Serialization;

namespace Sidecar.Simulation;

/// <summary>Source-generated (Native AOT) serialization of the route summaries.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(Dictionary<string, RouteSummary>))]
internal sealed partial class RouteSummaryJsonContext : JsonSerializerContext;
