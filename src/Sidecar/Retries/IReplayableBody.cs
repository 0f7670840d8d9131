namespace Sidecar.Retries;

/// <summary>A request body kept for replay while it is forwarded; it stops being replayable once a byte read could not be kept.</summary>
internal interface IReplayableBody
{
    bool IsReplayable { get; }
}
