package dev.cmod.lsp;

import dev.cmod.compiler.Compilation;
import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.SourceFile;
import dev.cmod.compiler.diag.Span;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;
import org.eclipse.lsp4j.CompletionItem;
import org.eclipse.lsp4j.CompletionItemKind;
import org.eclipse.lsp4j.CompletionList;
import org.eclipse.lsp4j.CompletionOptions;
import org.eclipse.lsp4j.CompletionParams;
import org.eclipse.lsp4j.Diagnostic;
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
 * <p>Compilations run one at a time on a background thread, so the protocol thread never waits on
 * the compiler; a compilation whose text has been replaced in the meantime publishes nothing. No
 * handler throws to the client: failures are logged to stderr and answered with empty results.
 */
public final class CmodLanguageServer implements LanguageServer, LanguageClientAware, TextDocumentService, WorkspaceService {
  /** An open document: its text and a counter that tells whether a compilation is still current. */
  private record Doc(String text, long revision) {}

  private final Map<String, Doc> docs = new ConcurrentHashMap<>();
  private final ExecutorService compiler = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "cmod-lsp-compile");
    t.setDaemon(true);
    return t;
  });
  private final IntConsumer onExit;
  private volatile LanguageClient client;
  private volatile boolean shutdown;
  private long revisions;

  /** A server whose {@code exit} does nothing (for tests and embedding). */
  public CmodLanguageServer() {
    this(code -> { });
  }

  /** @param onExit called with the exit code on the client's {@code exit} notification */
  public CmodLanguageServer(IntConsumer onExit) {
    this.onExit = onExit;
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
    return CompletableFuture.completedFuture(new InitializeResult(caps, new ServerInfo("cmod-lsp", Compilation.VERSION)));
  }

  @Override
  public CompletableFuture<Object> shutdown() {
    shutdown = true;
    compiler.shutdownNow();
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public void exit() {
    compiler.shutdownNow();
    onExit.accept(shutdown ? 0 : 1);
  }

  @Override
  public TextDocumentService getTextDocumentService() {
    return this;
  }

  @Override
  public WorkspaceService getWorkspaceService() {
    return this;
  }

  /** Waits until every queued compilation has published (for tests). */
  void awaitIdle(long timeout, TimeUnit unit) throws Exception {
    compiler.submit(() -> { }).get(timeout, unit);
  }

  // ---------------------------------------------------------------------------------------------
  // documents

  @Override
  public void didOpen(DidOpenTextDocumentParams params) {
    guard("didOpen", () -> update(params.getTextDocument().getUri(), params.getTextDocument().getText()));
  }

  @Override
  public void didChange(DidChangeTextDocumentParams params) {
    guard("didChange", () -> {
      String uri = params.getTextDocument().getUri();
      Doc old = docs.get(uri);
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
      update(uri, text);
    });
  }

  @Override
  public void didSave(DidSaveTextDocumentParams params) {
    guard("didSave", () -> {
      String uri = params.getTextDocument().getUri();
      Doc d = docs.get(uri);
      String text = params.getText() != null ? params.getText() : d != null ? d.text() : null;
      if (text != null) {
        update(uri, text);
      }
    });
  }

  @Override
  public void didClose(DidCloseTextDocumentParams params) {
    guard("didClose", () -> {
      String uri = params.getTextDocument().getUri();
      docs.remove(uri);
      compiler.execute(() -> publish(uri, List.of()));
    });
  }

  private void update(String uri, String text) {
    long rev;
    synchronized (this) {
      rev = ++revisions;
    }
    docs.put(uri, new Doc(text, rev));
    compiler.execute(() -> guard("compile " + uri, () -> {
      Doc now = docs.get(uri);
      if (now == null || now.revision() != rev) {
        return; // closed or replaced: a later task handles it
      }
      List<Diagnostic> ds = check(uri, text);
      now = docs.get(uri);
      if (now != null && now.revision() == rev) {
        publish(uri, ds);
      }
    }));
  }

  private void publish(String uri, List<Diagnostic> ds) {
    LanguageClient c = client;
    if (c != null) {
      c.publishDiagnostics(new PublishDiagnosticsParams(uri, ds));
    }
  }

  /** Compiles a document (every model of it, like {@code cmod check}) and converts the diagnostics. */
  static List<Diagnostic> check(String uri, String text) {
    Path path = pathOf(uri);
    SourceFile source = new SourceFile(fileName(uri, path), text);
    // -O0: the same diagnostics as -O2, without spending time on optimization at every keystroke
    Compilation.Options base = new Compilation.Options(null, null, 0, 0);
    List<Compilation.Result> results = Compilation.compileAll(source, path, base);
    Compilation.Result first = results.get(0);
    List<dev.cmod.compiler.diag.Diagnostic> all = new ArrayList<>(first.diagnostics().all());
    for (Compilation.Result r : results.subList(1, results.size())) {
      for (dev.cmod.compiler.diag.Diagnostic d : r.diagnostics().all()) {
        if (all.stream().noneMatch(x -> same(x, d))) {
          all.add(d);
        }
      }
    }
    return DiagnosticMapper.convert(all, source, first.models().isEmpty());
  }

  private static boolean same(dev.cmod.compiler.diag.Diagnostic a, dev.cmod.compiler.diag.Diagnostic b) {
    Span x = a.span();
    Span y = b.span();
    boolean spans = x == null ? y == null : y != null && x.file() == y.file() && x.start() == y.start() && x.end() == y.end();
    return a.code() == b.code() && a.message().equals(b.message()) && spans;
  }

  /** The file a {@code file:} URI names, or null (unsaved buffers, other schemes). */
  static Path pathOf(String uri) {
    try {
      URI u = URI.create(uri);
      if ("file".equalsIgnoreCase(u.getScheme())) {
        return Path.of(u);
      }
    } catch (RuntimeException e) {
      // not a usable file URI: compile without a path (relative imports cannot resolve)
    }
    return null;
  }

  private static String fileName(String uri, Path path) {
    if (path != null && path.getFileName() != null) {
      return path.getFileName().toString();
    }
    String s = uri;
    int q = s.indexOf('?');
    if (q >= 0) {
      s = s.substring(0, q);
    }
    int slash = Math.max(s.lastIndexOf('/'), s.lastIndexOf(':'));
    String name = s.substring(slash + 1);
    return name.isEmpty() ? "untitled.cmod" : name;
  }

  // ---------------------------------------------------------------------------------------------
  // hover and completion

  @Override
  public CompletableFuture<Hover> hover(HoverParams params) {
    return CompletableFuture.completedFuture(guarded("hover", () -> {
      Doc d = docs.get(params.getTextDocument().getUri());
      if (d == null) {
        return null;
      }
      int[] word = Lines.wordAt(d.text(), Lines.offset(d.text(), params.getPosition()));
      if (word == null) {
        return null;
      }
      String w = d.text().substring(word[0], word[1]);
      String md = hoverText(w);
      if (md == null) {
        return null;
      }
      Range r = new Range(Lines.position(d.text(), word[0]), Lines.position(d.text(), word[1]));
      return new Hover(new MarkupContent(MarkupKind.MARKDOWN, md), r);
    }));
  }

  /** Markdown for a word: a builtin's signature, a std module's header, a diagnostic's explanation. */
  static String hoverText(String w) {
    String sig = Catalog.BUILTINS.get(w);
    if (sig != null) {
      return "```cmod\n" + sig + "\n```\nbuiltin function";
    }
    Catalog.StdModule m = Catalog.stdModules().get(w);
    if (m != null) {
      return "```cmod\n" + m.signature() + "\n```\nfrom `" + m.library() + "`: `import " + m.library() + ".{" + m.name() + "}`";
    }
    if (w.matches("(?i)CM[0-9]{4}")) {
      DiagnosticCode c = DiagnosticCode.byId(w);
      if (c != null) {
        return "**" + c.id() + "** " + c.severity.text() + ": " + c.title + "\n\n```\n" + c.explanation + "\n```";
      }
    }
    return null;
  }

  @Override
  public CompletableFuture<Either<List<CompletionItem>, CompletionList>> completion(CompletionParams params) {
    List<CompletionItem> items = guarded("completion", CmodLanguageServer::completionItems);
    return CompletableFuture.completedFuture(Either.forLeft(items == null ? List.of() : items));
  }

  static List<CompletionItem> completionItems() {
    List<CompletionItem> out = new ArrayList<>();
    for (String k : Catalog.KEYWORDS) {
      out.add(item(k, CompletionItemKind.Keyword, "keyword"));
    }
    for (String t : Catalog.TYPES) {
      out.add(item(t, CompletionItemKind.TypeParameter, "type"));
    }
    for (Map.Entry<String, String> b : Catalog.BUILTINS.entrySet()) {
      out.add(item(b.getKey(), CompletionItemKind.Function, b.getValue()));
    }
    for (Catalog.StdModule m : Catalog.stdModules().values()) {
      out.add(item(m.name(), CompletionItemKind.Class, m.library() + ": " + m.signature()));
    }
    for (String lib : Catalog.STD_LIBRARIES) {
      out.add(item("std." + lib, CompletionItemKind.Module, "standard library"));
    }
    return out;
  }

  private static CompletionItem item(String label, CompletionItemKind kind, String detail) {
    CompletionItem it = new CompletionItem(label);
    it.setKind(kind);
    it.setDetail(detail);
    return it;
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
