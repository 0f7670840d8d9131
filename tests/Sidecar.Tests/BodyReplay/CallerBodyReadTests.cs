using System.IO.Pipelines;
using Sidecar.BodyReplay;

namespace Sidecar.Tests.BodyReplay;

public sealed class CallerBodyReadTests
{
    [Fact]
    public async Task IsStillArriving_PartOfTheBodyIn_TrueAndNothingTaken()
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync("abc"u8.ToArray());

        Assert.True(CallerBodyRead.IsStillArriving(pipe.Reader));
        var destination = new byte[8];
        Assert.Equal(3, await CallerBodyRead.ReadAsync(pipe.Reader, destination, CancellationToken.None));
    }

    [Fact]
    public void IsStillArriving_NothingYet_True() => Assert.True(CallerBodyRead.IsStillArriving(new Pipe().Reader));

    [Fact]
    public async Task IsStillArriving_WholeBodyIn_False()
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync("abc"u8.ToArray());
        await pipe.Writer.CompleteAsync();

        Assert.False(CallerBodyRead.IsStillArriving(pipe.Reader));
    }

    [Fact]
    public async Task ReadAsync_ZeroBytes_EndsOnceDataIsThereAndTakesNothing()
    {
        var pipe = new Pipe();
        var waiting = CallerBodyRead.ReadAsync(pipe.Reader, Memory<byte>.Empty, CancellationToken.None);
        Assert.False(waiting.IsCompleted);

        await pipe.Writer.WriteAsync("ab"u8.ToArray());

        Assert.Equal(0, await waiting);
        var destination = new byte[8];
        Assert.Equal(2, await CallerBodyRead.ReadAsync(pipe.Reader, destination, CancellationToken.None));
    }

    [Fact]
    public async Task ReadAsync_CancelledWhileWaiting_ThrowsAndTheReaderCanReadAgain()
    {
        var pipe = new Pipe();
        using var cancel = new CancellationTokenSource();
        var destination = new byte[8];
        var read = CallerBodyRead.ReadAsync(pipe.Reader, destination, cancel.Token);

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await read);
        await pipe.Writer.WriteAsync("xy"u8.ToArray());
        Assert.Equal(2, await CallerBodyRead.ReadAsync(pipe.Reader, destination, CancellationToken.None));
    }
}
