using System.Threading;

namespace XenPreemptAnalyzers.Flow;

/// <summary>
/// How much work one analyzer instance did: how far the cheap gates let code through to the flow engine.
/// Deterministic guards in the tests read them (no timing); benchmarks print them. Each is one interlocked
/// add per compilation, method body or graph, never per operation or block.
/// </summary>
internal sealed class AnalysisCounters
{
    private long _compilationStarts;
    private long _compilationsAnalyzed;
    private long _bodiesSeen;
    private long _operationTreesRequested;
    private long _graphsBuilt;
    private long _blocksAnalyzed;
    private long _blockVisits;

    /// <summary>Compilation-start actions run.</summary>
    public long CompilationStarts => Interlocked.Read(ref _compilationStarts);

    /// <summary>Compilations that passed the gate (may use the kernel API), so registered per-body actions.</summary>
    public long CompilationsAnalyzed => Interlocked.Read(ref _compilationsAnalyzed);

    /// <summary>Method bodies (code blocks) of analysed compilations shown to the syntax pre-filter.</summary>
    public long BodiesSeen => Interlocked.Read(ref _bodiesSeen);

    /// <summary>Bodies whose operation tree was asked for (they passed the syntax pre-filter), for the cheap candidate collection.</summary>
    public long OperationTreesRequested => Interlocked.Read(ref _operationTreesRequested);

    /// <summary>Control-flow graphs obtained (bodies, local functions, lambdas): only for bodies with a candidate call.</summary>
    public long GraphsBuilt => Interlocked.Read(ref _graphsBuilt);

    /// <summary>Basic blocks of the graphs the engine ran on.</summary>
    public long BlocksAnalyzed => Interlocked.Read(ref _blocksAnalyzed);

    /// <summary>Block visits of the engine on those graphs (the fixpoint; observations are read from its converged states).</summary>
    public long BlockVisits => Interlocked.Read(ref _blockVisits);

    internal void OnCompilationStart(bool analyzed)
    {
        Interlocked.Increment(ref _compilationStarts);
        if (analyzed)
            Interlocked.Increment(ref _compilationsAnalyzed);
    }

    internal void OnBodySeen() => Interlocked.Increment(ref _bodiesSeen);

    internal void OnOperationTreeRequested() => Interlocked.Increment(ref _operationTreesRequested);

    internal void OnGraphsBuilt(int count) => Interlocked.Add(ref _graphsBuilt, count);

    internal void OnGraphAnalyzed(FlowResult result)
    {
        Interlocked.Add(ref _blocksAnalyzed, result.Graph.Blocks.Length);
        Interlocked.Add(ref _blockVisits, result.BlockVisits);
    }
}
