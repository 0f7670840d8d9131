using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Sidecar.Configuration;

/// <summary>
/// Wraps a YAML <see cref="IParser"/>, reports every duplicate mapping key as a <see cref="ConfigError"/> and drops the
/// duplicate key with its value, so the representation model loads the rest and validation can report all other
/// errors too. YamlDotNet's <c>YamlMappingNode</c> would throw at the first duplicate instead.
/// </summary>
internal sealed class DuplicateKeyCheckingParser : IParser
{
    private readonly IParser _inner;
    private readonly string _file;
    private readonly List<ConfigError> _errors;
    private readonly Stack<Frame> _frames = new();

    public DuplicateKeyCheckingParser(IParser inner, string file, List<ConfigError> errors)
    {
        _inner = inner;
        _file = file;
        _errors = errors;
    }

    public ParsingEvent? Current => _inner.Current;

    /// <summary>Where the last event read ended: the best location for a failure the inner parser reports without one.</summary>
    public Mark LastGoodMark { get; private set; } = new(0, 1, 1);

    public bool MoveNext()
    {
        while (_inner.MoveNext())
        {
            var current = _inner.Current;
            if (_frames.TryPeek(out var parent) && parent.IsMapping && parent.ExpectingKey && current is Scalar key)
            {
                if (parent.FirstLines.TryGetValue(key.Value, out var firstLine))
                {
                    _errors.Add(new ConfigError(
                        _file,
                        (int)key.Start.Line,
                        (int)key.Start.Column,
                        ConfigReader.Child(parent.Path, key.Value),
                        $"duplicate key '{key.Value}' (first defined at line {firstLine})"));
                    SkipValue();
                    continue;
                }

                parent.FirstLines.Add(key.Value, (int)key.Start.Line);
                parent.CurrentKey = key.Value;
                parent.ExpectingKey = false;
                LastGoodMark = key.End;
                return true;
            }

            switch (current)
            {
                case MappingStart:
                    _frames.Push(new Frame(ChildPath(), isMapping: true));
                    break;
                case SequenceStart:
                    _frames.Push(new Frame(ChildPath(), isMapping: false));
                    break;
                case MappingEnd or SequenceEnd:
                    _frames.Pop();
                    CompleteNode();
                    break;
                case Scalar or AnchorAlias:
                    CompleteNode();
                    break;
            }

            LastGoodMark = current?.End ?? LastGoodMark;
            return true;
        }

        return false;
    }

    private void SkipValue()
    {
        if (!_inner.MoveNext() || _inner.Current is not (MappingStart or SequenceStart))
        {
            return;
        }

        var depth = 1;
        while (depth > 0 && _inner.MoveNext())
        {
            depth += _inner.Current switch
            {
                MappingStart or SequenceStart => 1,
                MappingEnd or SequenceEnd => -1,
                _ => 0,
            };
        }
    }

    private string ChildPath()
    {
        if (!_frames.TryPeek(out var parent))
        {
            return string.Empty;
        }

        if (!parent.IsMapping)
        {
            return ConfigReader.Item(parent.Path, parent.Index);
        }

        return parent.ExpectingKey ? parent.Path : ConfigReader.Child(parent.Path, parent.CurrentKey);
    }

    private void CompleteNode()
    {
        if (!_frames.TryPeek(out var parent))
        {
            return;
        }

        if (parent.IsMapping)
        {
            parent.ExpectingKey = !parent.ExpectingKey;
        }
        else
        {
            parent.Index++;
        }
    }

    private sealed class Frame(string path, bool isMapping)
    {
        public string Path { get; } = path;

        public bool IsMapping { get; } = isMapping;

        public bool ExpectingKey { get; set; } = true;

        public string CurrentKey { get; set; } = string.Empty;

        public int Index { get; set; }

        public Dictionary<string, int> FirstLines { get; } = new(StringComparer.Ordinal);
    }
}
