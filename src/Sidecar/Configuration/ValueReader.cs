using YamlDotNet.RepresentationModel;

namespace Sidecar.Configuration;

/// <summary>A strict read of one YAML value, as done by <see cref="ConfigReader"/>; records its own errors.</summary>
internal delegate bool ValueReader<T>(YamlNode node, string path, out T value);
