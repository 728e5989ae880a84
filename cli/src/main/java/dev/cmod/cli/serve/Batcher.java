package dev.cmod.cli.serve;

import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The bounded queue in front of the model and its dynamic batcher: one worker thread takes the
 * oldest request, waits up to the delay for more requests that can share its run (same adapter,
 * same sizes on every axis but the batch axis) until the batch holds {@code maxBatch} rows,
 * concatenates them along the batch axis, runs the model once and splits the outputs by request. A
 * request that does not fit the queue is refused at once ({@link V2Error} 503) rather than left to
 * wait without bound. One worker keeps ONNX Runtime's own threads the only parallelism, which is
 * what a small machine wants.
 */
public final class Batcher implements AutoCloseable {
  private final ModelRunner runner;
  private final ModelSignature sig;
  private final int maxBatch;
  private final long maxDelayNanos;
  private final int maxQueue;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private final LinkedList<Job> queue = new LinkedList<>();
  private final Thread worker;
  private final AtomicLong runs = new AtomicLong();
  private final AtomicLong requests = new AtomicLong();
  private boolean closing;

  private record Job(
      V2Json.InferRequest request,
      String key,
      long since,
      CompletableFuture<Map<String, Tensor>> done) {}

  public Batcher(
      ModelRunner runner, ModelSignature sig, int maxBatch, long maxDelayMillis, int maxQueue) {
    this.runner = runner;
    this.sig = sig;
    this.maxBatch = sig.batchable() ? maxBatch : 1;
    this.maxDelayNanos = TimeUnit.MILLISECONDS.toNanos(maxDelayMillis);
    this.maxQueue = maxQueue;
    this.worker = new Thread(this::work, "cmod-serve-batcher");
    worker.setDaemon(true);
    worker.start();
  }

  /**
   * Queues a request; the future completes with every output of the model for it.
   *
   * @throws V2Error 503 when the queue is full or the batcher is closing
   */
  public CompletableFuture<Map<String, Tensor>> submit(V2Json.InferRequest request) {
    Job job = new Job(request, key(request), System.nanoTime(), new CompletableFuture<>());
    lock.lock();
    try {
      if (closing) {
        throw new V2Error(503, "the server is shutting down");
      }
      if (queue.size() >= maxQueue) {
        throw new V2Error(
            503, "the queue is full (" + maxQueue + " requests waiting); retry later");
      }
      queue.add(job);
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    return job.done();
  }

  /** How many requests wait in the queue now. */
  public int queued() {
    lock.lock();
    try {
      return queue.size();
    } finally {
      lock.unlock();
    }
  }

  /** How many model runs the batcher made so far. */
  public long runs() {
    return runs.get();
  }

  /** How many requests those runs answered. */
  public long requests() {
    return requests.get();
  }

  /** Refuses new requests, finishes the queued ones, waits for the worker and closes the runner. */
  @Override
  public void close() {
    lock.lock();
    try {
      closing = true;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    boolean interrupted = false;
    while (worker.isAlive()) {
      try {
        worker.join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    runner.close();
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /** Requests with equal keys may share a run: same adapter, same sizes past the batch axis. */
  private String key(V2Json.InferRequest r) {
    StringBuilder sb = new StringBuilder(r.adapter() == null ? "-" : "+" + r.adapter());
    for (Tensor t : r.inputs().values()) {
      long[] s = t.shape();
      sb.append(Arrays.toString(Arrays.copyOfRange(s, Math.min(1, s.length), s.length)));
    }
    return sb.toString();
  }

  private void work() {
    while (true) {
      List<Job> batch = next();
      if (batch == null) {
        return;
      }
      run(batch);
    }
  }

  /** The next batch, or null when closing with nothing left. */
  private List<Job> next() {
    lock.lock();
    try {
      while (queue.isEmpty()) {
        if (closing) {
          return null;
        }
        changed.awaitUninterruptibly();
      }
      Job first = queue.poll();
      List<Job> batch = new ArrayList<>(List.of(first));
      long rows = first.request().rows();
      long deadline = first.since() + maxDelayNanos;
      while (rows < maxBatch) {
        for (Iterator<Job> it = queue.iterator(); it.hasNext() && rows < maxBatch; ) {
          Job j = it.next();
          if (j.key().equals(first.key()) && rows + j.request().rows() <= maxBatch) {
            it.remove();
            batch.add(j);
            rows += j.request().rows();
          }
        }
        long left = deadline - System.nanoTime();
        if (rows >= maxBatch || left <= 0 || closing) {
          break;
        }
        try {
          changed.awaitNanos(left);
        } catch (InterruptedException e) {
          break;
        }
      }
      return batch;
    } finally {
      lock.unlock();
    }
  }

  private void run(List<Job> batch) {
    runs.incrementAndGet();
    requests.addAndGet(batch.size());
    if (batch.size() == 1) {
      runAlone(batch.get(0));
      return;
    }
    Map<String, Tensor> results;
    try {
      results = runner.run(merged(batch), batch.get(0).request().adapter());
    } catch (RuntimeException | Error e) {
      // one bad request must not fail the others: each runs again on its own
      batch.forEach(this::runAlone);
      return;
    }
    long total = 0;
    for (Job j : batch) {
      total += j.request().rows();
    }
    for (Tensor t : results.values()) {
      if (t.rank() == 0 || t.dim(0) != total) {
        batch.forEach(this::runAlone);
        return;
      }
    }
    long start = 0;
    for (Job j : batch) {
      Map<String, Tensor> mine = new LinkedHashMap<>();
      for (Map.Entry<String, Tensor> e : results.entrySet()) {
        mine.put(e.getKey(), rows(e.getValue(), start, j.request().rows()));
      }
      start += j.request().rows();
      j.done().complete(mine);
    }
  }

  private void runAlone(Job j) {
    try {
      j.done().complete(runner.run(j.request().inputs(), j.request().adapter()));
    } catch (RuntimeException | Error e) {
      // an Error too: the worker must live on, or every later request would wait forever
      j.done().completeExceptionally(e);
    }
  }

  private Map<String, Tensor> merged(List<Job> batch) {
    Map<String, Tensor> feed = new LinkedHashMap<>();
    for (ModelSignature.Port p : sig.inputs()) {
      List<Tensor> parts = new ArrayList<>();
      for (Job j : batch) {
        parts.add(j.request().inputs().get(p.name()));
      }
      feed.put(p.name(), concat(parts));
    }
    return feed;
  }

  /** The tensors stacked along axis 0 (they agree on every other axis). */
  static Tensor concat(List<Tensor> parts) {
    Tensor first = parts.get(0);
    long[] shape = first.shape();
    long rows = 0;
    int n = 0;
    for (Tensor t : parts) {
      rows += t.dim(0);
      n += t.size();
    }
    shape[0] = rows;
    DType dt = first.dtype();
    int at = 0;
    if (dt == DType.F64) {
      double[] d = new double[n];
      for (Tensor t : parts) {
        System.arraycopy(t.doubles(), 0, d, at, t.size());
        at += t.size();
      }
      return Tensor.ofDoubles(shape, d);
    }
    if (first.isFloat()) {
      float[] f = new float[n];
      for (Tensor t : parts) {
        System.arraycopy(t.floats(), 0, f, at, t.size());
        at += t.size();
      }
      return Tensor.ofFloats(dt, shape, f);
    }
    long[] l = new long[n];
    for (Tensor t : parts) {
      System.arraycopy(t.longs(), 0, l, at, t.size());
      at += t.size();
    }
    return Tensor.ofLongs(dt, shape, l);
  }

  /** Rows {@code start .. start + count} of {@code t} along axis 0. */
  static Tensor rows(Tensor t, long start, long count) {
    long[] shape = t.shape();
    int per = shape[0] == 0 ? 0 : (int) (t.size() / shape[0]);
    int from = (int) (start * per);
    int to = (int) ((start + count) * per);
    shape[0] = count;
    if (t.dtype() == DType.F64) {
      return Tensor.ofDoubles(shape, Arrays.copyOfRange(t.doubles(), from, to));
    }
    if (t.isFloat()) {
      return Tensor.ofFloats(t.dtype(), shape, Arrays.copyOfRange(t.floats(), from, to));
    }
    return Tensor.ofLongs(t.dtype(), shape, Arrays.copyOfRange(t.longs(), from, to));
  }
}
