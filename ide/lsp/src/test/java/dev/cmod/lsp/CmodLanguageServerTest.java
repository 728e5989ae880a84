package dev.cmod.lsp;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.compiler.Compilation;
import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.SourceFile;
import dev.cmod.compiler.sema.CompileOptions;
import dev.cmod.onnx.EmitOptions;
import dev.cmod.onnx.OnnxEmitter;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.lsp4j.CompletionItem;
import org.eclipse.lsp4j.CompletionParams;
import org.eclipse.lsp4j.Diagnostic;
import org.eclipse.lsp4j.DiagnosticSeverity;
import org.eclipse.lsp4j.DidChangeTextDocumentParams;
import org.eclipse.lsp4j.DidCloseTextDocumentParams;
import org.eclipse.lsp4j.DidOpenTextDocumentParams;
import org.eclipse.lsp4j.Hover;
import org.eclipse.lsp4j.HoverParams;
import org.eclipse.lsp4j.InitializeParams;
import org.eclipse.lsp4j.InitializeResult;
import org.eclipse.lsp4j.InitializedParams;
import org.eclipse.lsp4j.MessageActionItem;
import org.eclipse.lsp4j.MessageParams;
import org.eclipse.lsp4j.Position;
import org.eclipse.lsp4j.PublishDiagnosticsParams;
import org.eclipse.lsp4j.Range;
import org.eclipse.lsp4j.ShowMessageRequestParams;
import org.eclipse.lsp4j.TextDocumentContentChangeEvent;
import org.eclipse.lsp4j.TextDocumentIdentifier;
import org.eclipse.lsp4j.TextDocumentItem;
import org.eclipse.lsp4j.VersionedTextDocumentIdentifier;
import org.eclipse.lsp4j.jsonrpc.Launcher;
import org.eclipse.lsp4j.launch.LSPLauncher;
import org.eclipse.lsp4j.services.LanguageClient;
import org.eclipse.lsp4j.services.LanguageServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs the server in-process behind real JSON-RPC over piped streams, with a recording client. */
class CmodLanguageServerTest {
  static final String URI = "file:///tmp/cmod-lsp-test/bad.cmod";
  static final String BAD =
      "import std.nn.{Linear}\n"
          + "\n"
          + "model M {\n"
          + "  input x: f32[4]\n"
          + "  output y: f32[4] = x |> gelu |> Linaer(4, 4) |> softmax\n"
          + "}\n";
  static final String GOOD = BAD.replace("Linaer", "Linear");

  /** Records what the server sends. */
  static final class RecordingClient implements LanguageClient {
    final BlockingQueue<PublishDiagnosticsParams> diagnostics = new LinkedBlockingQueue<>();

    @Override
    public void publishDiagnostics(PublishDiagnosticsParams p) {
      diagnostics.add(p);
    }

    @Override
    public void telemetryEvent(Object object) {}

    @Override
    public void showMessage(MessageParams p) {}

    @Override
    public CompletableFuture<MessageActionItem> showMessageRequest(ShowMessageRequestParams p) {
      return CompletableFuture.completedFuture(null);
    }

    @Override
    public void logMessage(MessageParams p) {}

    PublishDiagnosticsParams next() throws InterruptedException {
      PublishDiagnosticsParams p = diagnostics.poll(60, TimeUnit.SECONDS);
      assertNotNull(p, "no publishDiagnostics within 60 s");
      return p;
    }
  }

  RecordingClient client;
  LanguageServer server;
  ExecutorService threads;
  Future<Void> serverListening;
  Future<Void> clientListening;

  @BeforeEach
  void connect() throws Exception {
    PipedInputStream serverIn = new PipedInputStream(1 << 16);
    PipedOutputStream clientOut = new PipedOutputStream(serverIn);
    PipedInputStream clientIn = new PipedInputStream(1 << 16);
    PipedOutputStream serverOut = new PipedOutputStream(clientIn);
    threads = Executors.newCachedThreadPool();

    CmodLanguageServer impl = new CmodLanguageServer();
    Launcher<LanguageClient> s = Main.launcher(impl, serverIn, serverOut, threads);
    serverListening = s.startListening();

    client = new RecordingClient();
    Launcher<LanguageServer> c =
        LSPLauncher.createClientLauncher(client, clientIn, clientOut, threads, null);
    clientListening = c.startListening();
    server = c.getRemoteProxy();

    InitializeResult init = server.initialize(new InitializeParams()).get(30, TimeUnit.SECONDS);
    assertTrue(init.getCapabilities().getHoverProvider().getLeft());
    assertNotNull(init.getCapabilities().getCompletionProvider());
    server.initialized(new InitializedParams());
  }

  @AfterEach
  void close() throws Exception {
    server.shutdown().get(30, TimeUnit.SECONDS);
    serverListening.cancel(true);
    clientListening.cancel(true);
    threads.shutdownNow();
  }

  @Test
  void errorThenFixThenClose() throws Exception {
    server
        .getTextDocumentService()
        .didOpen(new DidOpenTextDocumentParams(new TextDocumentItem(URI, "cmod", 1, BAD)));
    PublishDiagnosticsParams p = client.next();
    assertEquals(URI, p.getUri());
    assertEquals(1, p.getDiagnostics().size(), p.getDiagnostics().toString());
    Diagnostic d = p.getDiagnostics().get(0);
    assertEquals("CM0100", d.getCode().getLeft());
    assertEquals(DiagnosticSeverity.Error, d.getSeverity());
    int col = BAD.split("\n")[4].indexOf("Linaer");
    assertEquals(
        new Range(new Position(4, col), new Position(4, col + "Linaer".length())), d.getRange());
    assertTrue(d.getMessage().startsWith("unknown name 'Linaer'"), d.getMessage());
    assertTrue(d.getMessage().contains("\nhelp: did you mean 'Linear'?"), d.getMessage());

    server
        .getTextDocumentService()
        .didChange(
            new DidChangeTextDocumentParams(
                new VersionedTextDocumentIdentifier(URI, 2),
                List.of(new TextDocumentContentChangeEvent(GOOD))));
    p = client.next();
    assertEquals(List.of(), p.getDiagnostics());

    server
        .getTextDocumentService()
        .didClose(new DidCloseTextDocumentParams(new TextDocumentIdentifier(URI)));
    p = client.next();
    assertEquals(List.of(), p.getDiagnostics());
  }

  /**
   * A small real ONNX model for {@code import onnx}: a compiled .cmod (a Linear layer and gelu)
   * emitted by the backend.
   */
  private static Path tinyOnnxModel(Path dir) throws Exception {
    String src =
        "import std.nn.{Linear}\n"
            + "model Enc {\n"
            + "  input x: f32[4]\n"
            + "  output y: f32[3] = x |> Linear(4, 3) |> gelu\n"
            + "}\n";
    Compilation.Result r =
        Compilation.compile(new SourceFile("enc.cmod", src), null, CompileOptions.defaults());
    assertTrue(r.ok(), () -> r.diagnostics().all().toString());
    Path model = dir.resolve("enc.onnx");
    Files.write(model, OnnxEmitter.emit(r.graph(), new EmitOptions(Compilation.VERSION)));
    return model;
  }

  @Test
  void importOnnxCompilesWithoutAFalseError(@TempDir Path dir) throws Exception {
    tinyOnnxModel(dir);
    String uri = dir.resolve("reader.cmod").toUri().toString();
    String text =
        "import onnx \"enc.onnx\" as Enc\n"
            + "model Reader {\n"
            + "  input x: f32[4]\n"
            + "  output y: f32[3] = Enc(x) |> softmax\n"
            + "}\n";
    server
        .getTextDocumentService()
        .didOpen(new DidOpenTextDocumentParams(new TextDocumentItem(uri, "cmod", 1, text)));
    PublishDiagnosticsParams p = client.next();
    assertEquals(uri, p.getUri());
    assertEquals(List.of(), p.getDiagnostics());

    // the import is really read: a wrong output type against the imported model is reported
    String wrong = text.replace("output y: f32[3]", "output y: f32[5]");
    server
        .getTextDocumentService()
        .didChange(
            new DidChangeTextDocumentParams(
                new VersionedTextDocumentIdentifier(uri, 2),
                List.of(new TextDocumentContentChangeEvent(wrong))));
    p = client.next();
    assertEquals(1, p.getDiagnostics().size(), p.getDiagnostics().toString());
    assertEquals(DiagnosticSeverity.Error, p.getDiagnostics().get(0).getSeverity());
    assertEquals(3, p.getDiagnostics().get(0).getRange().getStart().getLine());
  }

  @Test
  void brokenOnnxImportIsReportedOnItsFileName(@TempDir Path dir) throws Exception {
    Files.write(dir.resolve("broken.onnx"), "not a protobuf at all".getBytes(UTF_8));
    String uri = dir.resolve("reader.cmod").toUri().toString();
    String text =
        "import onnx \"broken.onnx\" as Enc\n"
            + "model Reader {\n"
            + "  input x: f32[4]\n"
            + "  output y: f32[3] = Enc(x)\n"
            + "}\n";
    server
        .getTextDocumentService()
        .didOpen(new DidOpenTextDocumentParams(new TextDocumentItem(uri, "cmod", 1, text)));
    PublishDiagnosticsParams p = client.next();
    assertEquals(1, p.getDiagnostics().size(), p.getDiagnostics().toString());
    Diagnostic d = p.getDiagnostics().get(0);
    assertEquals(DiagnosticCode.ONNX_FILE.id(), d.getCode().getLeft());
    assertEquals(DiagnosticSeverity.Error, d.getSeverity());
    assertTrue(
        d.getMessage().startsWith("broken.onnx is not a valid ONNX model: "), d.getMessage());
    int col = text.indexOf("\"broken.onnx\"");
    assertEquals(
        new Range(new Position(0, col), new Position(0, col + "\"broken.onnx\"".length())),
        d.getRange());
  }

  @Test
  void hoverAndCompletion() throws Exception {
    server
        .getTextDocumentService()
        .didOpen(new DidOpenTextDocumentParams(new TextDocumentItem(URI, "cmod", 1, GOOD)));
    assertEquals(List.of(), client.next().getDiagnostics());

    String line = GOOD.split("\n")[4];
    Hover h = hoverAt(4, line.indexOf("softmax") + 3);
    assertNotNull(h);
    assertTrue(
        h.getContents().getRight().getValue().contains("softmax(x, axis = -1)"),
        h.getContents().getRight().getValue());
    int col = line.indexOf("softmax");
    assertEquals(new Range(new Position(4, col), new Position(4, col + 7)), h.getRange());

    Hover std = hoverAt(4, line.indexOf("Linear") + 1);
    assertTrue(
        std.getContents().getRight().getValue().contains("module Linear(inp: int, out: int"));
    assertNull(hoverAt(3, GOOD.split("\n")[3].indexOf("x:"))); // the input's own name
    assertNull(hoverAt(1, 0)); // an empty line

    List<CompletionItem> items =
        server
            .getTextDocumentService()
            .completion(new CompletionParams(new TextDocumentIdentifier(URI), new Position(4, 2)))
            .get(30, TimeUnit.SECONDS)
            .getLeft();
    List<String> labels = items.stream().map(CompletionItem::getLabel).toList();
    assertTrue(labels.contains("attention"), labels.toString());
    assertTrue(labels.contains("model"), labels.toString());
    assertTrue(labels.contains("TransformerBlock"), labels.toString());
    assertTrue(labels.contains("std.nn"), labels.toString());
  }

  @Test
  void hoverOnDiagnosticCode() throws Exception {
    String text = "// see CM0201 for shapes\n" + GOOD;
    server
        .getTextDocumentService()
        .didOpen(new DidOpenTextDocumentParams(new TextDocumentItem(URI, "cmod", 1, text)));
    client.next();
    Hover h = hoverAt(0, 10);
    assertTrue(
        h.getContents().getRight().getValue().contains("shape mismatch"),
        h.getContents().getRight().getValue());
  }

  private Hover hoverAt(int line, int character) throws Exception {
    return server
        .getTextDocumentService()
        .hover(new HoverParams(new TextDocumentIdentifier(URI), new Position(line, character)))
        .get(30, TimeUnit.SECONDS);
  }
}
