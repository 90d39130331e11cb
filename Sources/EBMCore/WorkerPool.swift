#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The threads that help `ChainParallel.run`, started once and parked between runs: a training
/// step makes about ten parallel passes, and creating their threads each time cost more than the
/// passes of small models gain (issue 24).
///
/// One run holds the pool at a time (`acquire`); a run that finds it held — another Python thread
/// sampling at the same moment — starts its own threads as before. Parked threads wait on a
/// condition variable: they take no CPU between runs. Which thread takes which block never
/// changes a result (blocks are fixed and each writes its own outputs), so the pool changes no
/// number. After `fork` the child has none of the parent's threads: the pool starts empty there.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// Threads started (parked or working).
    private var started = 0
    private var held = false
    /// The current run, how many helpers it asked for, and how many have not joined it yet.
    private var run: SharedRun?
    private var helpers = 0, unclaimed = 0
    /// Bumped for every run, so that a thread joins each run at most once.
    private var generation: UInt64 = 0

    private init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
        pthread_atfork({ WorkerPool.shared.lockForFork() }, { WorkerPool.shared.unlockAfterFork() },
                       { WorkerPool.shared.resetInChild() })
    }

    /// Takes the pool for one run with `count` helpers (starting threads up to that many; fewer if
    /// the system refuses one). Returns the helpers the run gets, or nil if another run holds the pool.
    func acquire(helpers count: Int) -> Int? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        guard !held else { return nil }
        held = true
        while started < count && startThread() { started += 1 }
        return min(count, started)
    }

    /// Hands `shared` to `count` parked helpers (`count` ≤ what `acquire` returned), as workers
    /// `1 ... count`; each calls `shared.finished()` when done.
    func start(_ shared: SharedRun, helpers count: Int) {
        pthread_mutex_lock(mutex)
        run = shared
        helpers = count
        unclaimed = count
        generation &+= 1
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(mutex)
    }

    /// Gives the pool back after the run's helpers have all finished.
    func release() {
        pthread_mutex_lock(mutex)
        run = nil
        unclaimed = 0
        held = false
        pthread_mutex_unlock(mutex)
    }

    /// Starts a helper (the mutex held) that has seen the runs so far: it joins the next one,
    /// even if that starts before the thread first runs.
    private func startThread() -> Bool {
        var handle = pthread_t()
        let seen = UnsafeMutableRawPointer(bitPattern: UInt(generation) &+ 1)  // never nil: generation < 2⁶⁴ − 1
        guard pthread_create(&handle, nil, { seen in
            WorkerPool.shared.park(seen: UInt64(UInt(bitPattern: seen) &- 1))
            return nil
        }, seen) == 0 else { return false }
        pthread_detach(handle)
        return true
    }

    /// A helper's life: wait for a run it has not joined, take a worker slot, work, park again.
    private func park(seen first: UInt64) {
        pthread_mutex_lock(mutex)
        var seen = first
        while true {
            while generation == seen || unclaimed == 0 {
                if generation != seen { seen = generation }  // a run whose slots are all taken
                pthread_cond_wait(wake, mutex)
            }
            seen = generation
            let worker = helpers - unclaimed + 1
            unclaimed -= 1
            let shared = run!
            pthread_mutex_unlock(mutex)
            shared.work(worker: worker) { newStep in
                if newStep { shared.steps.wrappingAdd(1, ordering: .relaxed) }
                return shared.stop.load(ordering: .relaxed)
            }
            shared.finished()
            pthread_mutex_lock(mutex)
        }
    }

    private func lockForFork() { pthread_mutex_lock(mutex) }
    private func unlockAfterFork() { pthread_mutex_unlock(mutex) }

    /// In a forked child: no thread of the pool exists there.
    private func resetInChild() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
        started = 0
        held = false
        run = nil
        helpers = 0
        unclaimed = 0
    }
}
