using System.Buffers.Binary;
using System.Text;

namespace Sidecar.FunctionalTests.Telemetry;

/// <summary>
/// Reads protobuf wire format field by field (https://protobuf.dev/programming-guides/encoding/): enough to walk the
/// OTLP messages <see cref="OtlpReceiver"/> receives without generated code.
/// </summary>
internal ref struct ProtobufReader
{
    private ReadOnlySpan<byte> _rest;

    public ProtobufReader(ReadOnlySpan<byte> message) => _rest = message;

    public int Field { get; private set; }

    public int WireType { get; private set; }

    /// <summary>Moves to the next field; false at the end of the message.</summary>
    public bool Next()
    {
        if (_rest.IsEmpty)
        {
            return false;
        }

        var tag = ReadVarint();
        Field = (int)(tag >> 3);
        WireType = (int)(tag & 7);
        return true;
    }

    /// <summary>A length-delimited field: bytes, a string or an embedded message.</summary>
    public ReadOnlySpan<byte> Bytes()
    {
        Require(2);
        var length = checked((int)ReadVarint());
        var value = _rest[..length];
        _rest = _rest[length..];
        return value;
    }

    public string String() => Encoding.UTF8.GetString(Bytes());

    public ulong Varint()
    {
        Require(0);
        return ReadVarint();
    }

    public double Double()
    {
        Require(1);
        var value = BinaryPrimitives.ReadDoubleLittleEndian(_rest);
        _rest = _rest[8..];
        return value;
    }

    public void Skip()
    {
        switch (WireType)
        {
            case 0:
                ReadVarint();
                break;
            case 1:
                _rest = _rest[8..];
                break;
            case 2:
                Bytes();
                break;
            case 5:
                _rest = _rest[4..];
                break;
            default:
                throw new InvalidDataException($"Unsupported wire type {WireType} of field {Field}.");
        }
    }

    private readonly void Require(int wireType)
    {
        if (WireType != wireType)
        {
            throw new InvalidDataException($"Field {Field} has wire type {WireType}, expected {wireType}.");
        }
    }

    private ulong ReadVarint()
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = _rest[0];
            _rest = _rest[1..];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
    }
}
