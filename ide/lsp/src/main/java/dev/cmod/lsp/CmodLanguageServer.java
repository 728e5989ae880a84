package dev.cmod.lsp;

import dev.cmod.compiler.Compilation;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;
import org.eclipse.lsp4j.CompletionItem;
import org.eclipse.lsp4j.CompletionList;
import org.eclipse.lsp4j.CompletionOptions;
import org.eclipse.lsp4j.CompletionParams;
import org.eclipse.lsp4j.Diagnostic;
import org.eclipse.lsp4j.DiagnosticSeverity;
import org.eclipse.lsp4j.DidChangeConfigurationParams;
import org.eclipse.lsp4j.DidChangeTextDocumentParams;
import org.eclipse.lsp4j.DidChangeWatchedFilesParams;
import org.eclipse.lsp4j.DidCloseTextDocumentParams;
import org.eclipse.lsp4j.DidOpenTextDocumentParams;
import org.eclipse.lsp4j.DidSaveTextDocumentParams;
import org.eclipse.lsp4j.Hover;
import org.eclipse.lsp4j.HoverParams;
import org.eclipse.lsp4j.InitializeParams;
import org.eclipse.lsp4j.InitializeResult;
import org.eclipse.lsp4j.MarkupContent;
import org.eclipse.lsp4j.MarkupKind;
import org.eclipse.lsp4j.PublishDiagnosticsParams;
import org.eclipse.lsp4j.Range;
import org.eclipse.lsp4j.SaveOptions;
import org.eclipse.lsp4j.ServerCapabilities;
import org.eclipse.lsp4j.ServerInfo;
import org.eclipse.lsp4j.TextDocumentContentChangeEvent;
import org.eclipse.lsp4j.TextDocumentSyncKind;
import org.eclipse.lsp4j.TextDocumentSyncOptions;
import org.eclipse.lsp4j.jsonrpc.messages.Either;
import org.eclipse.lsp4j.services.LanguageClient;
import org.eclipse.lsp4j.services.LanguageClientAware;
import org.eclipse.lsp4j.services.LanguageServer;
import org.eclipse.lsp4j.services.TextDocumentService;
import org.eclipse.lsp4j.services.WorkspaceService;

/**
 * The cmod language server: diagnostics from {@link Compilation} on open, change and save; hover
 * for builtins, std modules and diagnostic codes; completion of keywords, types and names.
 *
 * <p>The protocol thread never compiles and never reads a file: each compilation runs on a thread
 * of its own, with at most {@link Settings#workers} running at once and at most one current
 * compilation per document, so a slow document never holds the others. A compilation that outlives
 * {@link Settings#timeoutMillis} is abandoned (its thread is a daemon, and is interrupted) and the
 * document gets a diagnostic saying so. When a newer revision of a document arrives, the running
 * compilation of the old one is left to finish on its own, publishing nothing, and the new one
 * starts at once; a document has at most one such superseded compilation alive, so fast typing in a
 * slow document cannot start compilations without bound. Diagnostics are capped at {@link
 * Settings#maxDiagnostics} per document, plus one saying how many were left out. Hover and
 * completion run off the protocol thread too. No handler throws to the client: failures are logged
 * to stderr and answered with empty results.
 */
public final class CmodLanguageServer
    implements LanguageServer, LanguageClientAware, TextDocumentService, WorkspaceService {
  /**
   * Limits of the server.
   *
   * @param timeoutMillis how long one compilation may run before it is abandoned
   * @param maxDiagnostics how many diagnostics one document publishes at most (one more says how
   *     many were left out)
   * @param workers how many documents compile at once
   */
  record Settings(long timeoutMillis, int maxDiagnostics, int workers) {
    /**
     * From the system properties cmod.lsp.compileTimeoutMs, cmod.lsp.maxDiagnostics and
     * cmod.lsp.compileThreads.
     */
    static Settings fromSystemProperties() {
      int cores = Runtime.getRuntime().availableProcessors();
      return new Settings(
          Math.max(1, Long.getLong("cmod.lsp.compileTimeoutMs", 10_000)),
          Math.max(1, Integer.getInteger("cmod.lsp.maxDiagnostics", 100)),
          Math.max(
              1, Integer.getInteger("cmod.lsp.compileThreads", Math.max(2, Math.min(4, cores)))));
    }
  }

  /** What turns a document into diagnostics ({@link #check} but for tests). */
  interface Checker {
    List<Diagnostic> check(String uri, String text) throws Exception;
  }

  /** A revision of a document: its text, the server's revision counter and the client's version. */
  private record Doc(String text, long revision, Integer version) {}

  /** What the server knows of one URI. Fields other than the lock are guarded by {@code lock}. */
  private static final class DocState {
    final String uri;

    /** The latest revision (after a close: the text is null). */
    volatile Doc latest;

    boolean closed;

    /** The revision of the latest compilation started. */
    long started;

    /** The current compilation, and a superseded one still running. */
    Job running;

    Job superseded;
    boolean queued;

    DocState(String uri) {
      this.uri = uri;
    }
  }

  /** One compilation of one revision. Fields guarded by {@code lock}. */
  private static final class Job {
    final DocState doc;
    final Doc rev;
    Thread thread;
    ScheduledFuture<?> deadline;
    boolean over; // finished, or abandoned at its deadline

    Job(DocState doc, Doc rev) {
      this.doc = doc;
      this.rev = rev;
    }
  }

  private final Object lock = new Object();
  private final Map<String, DocState> docs = new ConcurrentHashMap<>();
  private final ArrayDeque<DocState> ready = new ArrayDeque<>();
  private int runningJobs;
  private long revisions;
  private final AtomicInteger threadNumbers = new AtomicInteger();

  /** Deadlines. */
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(daemon("cmod-lsp-timer"));

  /**
   * Every publication, in order, from one long-lived thread: a compile thread never waits on the
   * client, and whether a result is stale is decided just before it is sent.
   */
  private final ExecutorService publisher =
      Executors.newSingleThreadExecutor(daemon("cmod-lsp-publish"));

  /** Hover and completion. */
  private final ExecutorService requests =
      Executors.newFixedThreadPool(2, daemon("cmod-lsp-request"));

  private final Settings settings;
  private final Checker checker;
  private final IntConsumer onExit;
  private volatile LanguageClient client;
  private volatile boolean shutdown;

  /** A server whose {@code exit} does nothing (for tests and embedding). */
  public CmodLanguageServer() {
    this(code -> {});
  }

  /**
   * @param onExit called with the exit code on the client's {@code exit} notification
   */
  public CmodLanguageServer(IntConsumer onExit) {
    this(onExit, Settings.fromSystemProperties(), DocumentCheck::check);
  }

  CmodLanguageServer(IntConsumer onExit, Settings settings, Checker checker) {
    this.onExit = onExit;
    this.settings = settings;
    this.checker = checker;
  }

  private static ThreadFactory daemon(String name) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  @Override
  public void connect(LanguageClient client) {
    this.client = client;
  }

  // ---------------------------------------------------------------------------------------------
  // lifecycle

  @Override
  public CompletableFuture<InitializeResult> initialize(InitializeParams params) {
    ServerCapabilities caps = new ServerCapabilities();
    TextDocumentSyncOptions sync = new TextDocumentSyncOptions();
    sync.setOpenClose(true);
    sync.setChange(TextDocumentSyncKind.Full);
    sync.setSave(new SaveOptions(true));
    caps.setTextDocumentSync(sync);
    caps.setHoverProvider(true);
    caps.setCompletionProvider(new CompletionOptions(false, List.of(".")));
    return CompletableFuture.completedFuture(
        new InitializeResult(caps, new ServerInfo("cmod-lsp", Compilation.VERSION)));
  }

  @Override
  public CompletableFuture<Object> shutdown() {
    shutdown = true;
    stopAll();
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public void exit() {
    stopAll();
    onExit.accept(shutdown ? 0 : 1);
  }

  /** Abandons every compilation and publishes nothing more. */
  private void stopAll() {
    synchronized (lock) {
      for (DocState d : docs.values()) {
        d.closed = true;
        for (Job j : new Job[] {d.running, d.superseded}) {
          if (j != null && j.thread != null) {
            j.thread.interrupt();
          }
        }
      }
      ready.clear();
    }
    timer.shutdownNow();
    publisher.shutdownNow();
    requests.shutdownNow();
  }

  @Override
  public TextDocumentService getTextDocumentService() {
    return this;
  }

  @Override
  public WorkspaceService getWorkspaceService() {
    return this;
  }

  /** Waits until no compilation runs or waits to run (for tests). */
  void awaitIdle(long timeout, TimeUnit unit) throws Exception {
    long end = System.nanoTime() + unit.toNanos(timeout);
    while (true) {
      synchronized (lock) {
        if (runningJobs == 0 && ready.isEmpty()) {
          return;
        }
      }
      if (System.nanoTime() > end) {
        throw new java.util.concurrent.TimeoutException("compilations still running");
      }
      Thread.sleep(10);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // documents

  @Override
  public void didOpen(DidOpenTextDocumentParams params) {
    guard(
        "didOpen",
        () ->
            update(
                params.getTextDocument().getUri(),
                params.getTextDocument().getText(),
                params.getTextDocument().getVersion()));
  }

  @Override
  public void didChange(DidChangeTextDocumentParams params) {
    guard(
        "didChange",
        () -> {
          String uri = params.getTextDocument().getUri();
          Doc old = current(uri);
          String text = old == null ? "" : old.text();
          for (TextDocumentContentChangeEvent c : params.getContentChanges()) {
            if (c.getRange() == null) {
              text = c.getText();
            } else { // an incremental edit, from a client that ignored the Full sync kind
              int s = Lines.offset(text, c.getRange().getStart());
              int e = Math.max(s, Lines.offset(text, c.getRange().getEnd()));
              text = text.substring(0, s) + c.getText() + text.substring(e);
            }
          }
          update(uri, text, params.getTextDocument().getVersion());
        });
  }

  @Override
  public void didSave(DidSaveTextDocumentParams params) {
    guard(
        "didSave",
        () -> {
          String uri = params.getTextDocument().getUri();
          Doc d = current(uri);
          String text = params.getText() != null ? params.getText() : d != null ? d.text() : null;
          if (text != null) {
            update(uri, text, d != null ? d.version() : null);
          }
        });
  }

  @Override
  public void didClose(DidCloseTextDocumentParams params) {
    guard(
        "didClose",
        () -> {
          String uri = params.getTextDocument().getUri();
          DocState d = docs.get(uri);
          if (d == null) {
            return;
          }
          long rev;
          synchronized (lock) {
            rev = ++revisions;
            d.closed = true;
            d.latest = new Doc(null, rev, null);
            ready.remove(d);
            d.queued = false;
          }
          // after any publication queued for this document, unless it is reopened meanwhile
          publisher.execute(
              () ->
                  guard(
                      "close " + uri,
                      () -> {
                        synchronized (lock) {
                          if (!d.closed || d.latest.revision() != rev) {
                            return;
                          }
                        }
                        send(new PublishDiagnosticsParams(uri, List.of()));
                      }));
        });
  }

  /** The latest text of an open document, or null. */
  private Doc current(String uri) {
    DocState d = docs.get(uri);
    Doc doc = d == null ? null : d.latest;
    return doc == null || doc.text() == null ? null : doc;
  }

  /** Records a new revision and schedules its compilation; never blocks. */
  private void update(String uri, String text, Integer version) {
    DocState d = docs.computeIfAbsent(uri, DocState::new);
    synchronized (lock) {
      d.closed = false;
      d.latest = new Doc(text, ++revisions, version);
      if (d.running != null && d.superseded == null) {
        // the old revision's compilation finishes on its own and publishes nothing
        d.superseded = d.running;
        d.running = null;
        runningJobs--;
      }
      if (d.running == null) {
        enqueue(d);
      } // else: the second superseded one; the newest starts when it or the earlier one ends
    }
  }

  /** Under lock. */
  private void enqueue(DocState d) {
    if (!d.queued) {
      d.queued = true;
      ready.add(d);
    }
    dispatch();
  }

  /** Under lock: starts compilations while there is room. */
  private void dispatch() {
    while (runningJobs < settings.workers() && !ready.isEmpty() && !timer.isShutdown()) {
      DocState d = ready.poll();
      d.queued = false;
      Doc rev = d.latest;
      if (d.closed || d.running != null || rev.revision() == d.started) {
        continue;
      }
      Job job = new Job(d, rev);
      d.running = job;
      d.started = rev.revision();
      runningJobs++;
      Thread t = new Thread(() -> run(job), "cmod-lsp-compile-" + threadNumbers.incrementAndGet());
      t.setDaemon(true); // an abandoned compilation must not keep the process alive
      job.thread = t;
      job.deadline =
          timer.schedule(
              () -> guard("deadline", () -> expire(job)),
              settings.timeoutMillis(),
              TimeUnit.MILLISECONDS);
      t.start();
    }
  }

  private void run(Job job) {
    List<Diagnostic> ds;
    try {
      ds = checker.check(job.doc.uri, job.rev.text());
    } catch (Throwable e) { // NOPMD: nothing may reach the client as an exception
      synchronized (lock) {
        if (job.over) {
          return; // abandoned (and interrupted): nothing to report
        }
      }
      log("compile " + job.doc.uri, e);
      ds =
          List.of(
              DocumentCheck.note(
                  DiagnosticSeverity.Error, "cmod-lsp could not compile this document: " + e));
    }
    synchronized (lock) {
      if (job.over) {
        return; // abandoned at its deadline: already reported
      }
      job.over = true;
      job.deadline.cancel(false);
      release(job);
    }
    publish(job.doc, job.rev, ds);
  }

  /** At a job's deadline: abandons it and, if its revision is still current, says so. */
  private void expire(Job job) {
    synchronized (lock) {
      if (job.over) {
        return;
      }
      job.over = true;
      job.thread.interrupt(); // in case the compiler notices
      release(job);
    }
    double s = settings.timeoutMillis() / 1000.0;
    System.err.println(
        "cmod-lsp: compiling " + job.doc.uri + " took longer than " + s + " s; abandoned");
    publish(
        job.doc,
        job.rev,
        List.of(
            DocumentCheck.note(
                DiagnosticSeverity.Error,
                "cmod-lsp: compiling this document took longer than "
                    + (s == Math.rint(s) ? String.valueOf((long) s) : String.valueOf(s))
                    + " s and was abandoned (an import that never finishes reading, such as a named pipe, or a very large document?)."
                    + " Edit or save the document to try again.")));
  }

  /** Under lock: frees the job's place and starts what waited for it. */
  private void release(Job job) {
    DocState d = job.doc;
    if (d.running == job) {
      d.running = null;
      runningJobs--;
    } else if (d.superseded == job) {
      d.superseded = null;
      if (d.running != null && d.running.rev != d.latest) {
        // the current job is stale too: it becomes the superseded one, and the newest can start
        d.superseded = d.running;
        d.running = null;
        runningJobs--;
      }
    }
    if (!d.closed && d.running == null && d.latest.revision() != d.started) {
      enqueue(d);
    } else {
      dispatch();
    }
  }

  /**
   * Publishes a revision's diagnostics if it is still the document's latest when its turn comes.
   */
  private void publish(DocState d, Doc rev, List<Diagnostic> ds) {
    try {
      publisher.execute(
          () ->
              guard(
                  "publish " + d.uri,
                  () -> {
                    synchronized (lock) {
                      if (d.closed || d.latest.revision() != rev.revision()) {
                        return; // replaced or closed meanwhile
                      }
                    }
                    send(
                        new PublishDiagnosticsParams(
                            d.uri,
                            DocumentCheck.cap(ds, settings.maxDiagnostics()),
                            rev.version()));
                  }));
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // shut down
    }
  }

  private void send(PublishDiagnosticsParams p) {
    LanguageClient c = client;
    if (c != null) {
      c.publishDiagnostics(p);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // hover and completion

  @Override
  public CompletableFuture<Hover> hover(HoverParams params) {
    return async(
        () ->
            guarded(
                "hover",
                () -> {
                  Doc d = current(params.getTextDocument().getUri());
                  if (d == null) {
                    return null;
                  }
                  int[] word = Lines.wordAt(d.text(), Lines.offset(d.text(), params.getPosition()));
                  if (word == null) {
                    return null;
                  }
                  String w = d.text().substring(word[0], word[1]);
                  String md = EditorHelp.hoverText(w);
                  if (md == null) {
                    return null;
                  }
                  Range r =
                      new Range(
                          Lines.position(d.text(), word[0]), Lines.position(d.text(), word[1]));
                  return new Hover(new MarkupContent(MarkupKind.MARKDOWN, md), r);
                }));
  }

  @Override
  public CompletableFuture<Either<List<CompletionItem>, CompletionList>> completion(
      CompletionParams params) {
    return async(
        () -> {
          List<CompletionItem> items = guarded("completion", EditorHelp::completionItems);
          return Either.forLeft(items == null ? List.of() : items);
        });
  }

  /**
   * Runs a request off the protocol thread (the std catalogue is read from the class path on first
   * use).
   */
  private <T> CompletableFuture<T> async(java.util.function.Supplier<T> work) {
    try {
      return CompletableFuture.supplyAsync(work, requests);
    } catch (java.util.concurrent.RejectedExecutionException e) { // after shutdown
      return CompletableFuture.completedFuture(null);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // workspace (nothing to do: every document is compiled on its own)

  @Override
  public void didChangeConfiguration(DidChangeConfigurationParams params) {
    // no settings
  }

  @Override
  public void didChangeWatchedFiles(DidChangeWatchedFilesParams params) {
    // imported files are re-read on the next change of a document that imports them
  }

  // ---------------------------------------------------------------------------------------------

  private interface Action {
    void run() throws Exception;
  }

  private interface Computation<T> {
    T get() throws Exception;
  }

  private static void guard(String what, Action a) {
    try {
      a.run();
    } catch (Throwable e) { // NOPMD: nothing may reach the client as an exception
      log(what, e);
    }
  }

  private static <T> T guarded(String what, Computation<T> c) {
    try {
      return c.get();
    } catch (Throwable e) { // NOPMD: nothing may reach the client as an exception
      log(what, e);
      return null;
    }
  }

  private static void log(String what, Throwable e) {
    System.err.println("cmod-lsp: " + what + " failed: " + e);
    if (System.getenv("CMOD_DEBUG") != null) {
      e.printStackTrace();
    }
  }
}
