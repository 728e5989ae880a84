package dev.cmod.lsp;

import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicReference;
import org.eclipse.lsp4j.jsonrpc.Launcher;
import org.eclipse.lsp4j.jsonrpc.MessageConsumer;
import org.eclipse.lsp4j.jsonrpc.json.StreamMessageConsumer;
import org.eclipse.lsp4j.jsonrpc.messages.Either;
import org.eclipse.lsp4j.jsonrpc.messages.ResponseError;
import org.eclipse.lsp4j.jsonrpc.messages.ResponseErrorCode;
import org.eclipse.lsp4j.jsonrpc.messages.ResponseMessage;
import org.eclipse.lsp4j.launch.LSPLauncher;
import org.eclipse.lsp4j.services.LanguageClient;

/** Runs the cmod language server over stdin/stdout. */
public final class Main {
  private Main() {}

  public static void main(String[] args) throws InterruptedException {
    if (args.length > 0 && (args[0].equals("--version") || args[0].equals("-V"))) {
      System.out.println("cmod-lsp " + dev.cmod.compiler.Compilation.VERSION);
      return;
    }
    InputStream in = System.in;
    PrintStream out = System.out;
    // stdout carries the protocol: anything else printed by accident goes to stderr instead
    System.setOut(System.err);
    CmodLanguageServer server = new CmodLanguageServer(System::exit);
    Launcher<LanguageClient> launcher = launcher(server, in, out, null);
    try {
      launcher.startListening().get();
    } catch (ExecutionException e) {
      System.err.println("cmod-lsp: connection failed: " + e.getCause());
      System.exit(1);
    }
    System.exit(0); // the client closed the stream without exit
  }

  /**
   * The server's end of a connection, connected to {@code server}: messages from {@code in} pass a
   * {@link FrameGuard} first, and a request it drops for its depth is answered with -32600 Invalid
   * Request.
   *
   * @param executor for LSP4J's threads, or null for its default
   */
  static Launcher<LanguageClient> launcher(
      CmodLanguageServer server, InputStream in, OutputStream out, ExecutorService executor) {
    AtomicReference<MessageConsumer> outgoing = new AtomicReference<>();
    FrameGuard guarded =
        FrameGuard.withDefaults(
            in,
            (id, reason) -> {
              MessageConsumer o = outgoing.get();
              if (id == null || o == null) {
                return; // a notification (or no id found): FrameGuard has logged it
              }
              ResponseMessage r = new ResponseMessage();
              r.setJsonrpc("2.0");
              r.setRawId(
                  id.isString()
                      ? Either.forLeft(id.getAsString())
                      : Either.forRight(id.getAsNumber()));
              r.setError(
                  new ResponseError(
                      ResponseErrorCode.InvalidRequest, "Invalid Request: " + reason, null));
              o.consume(r);
            });
    Launcher.Builder<LanguageClient> b =
        new LSPLauncher.Builder<LanguageClient>()
            .setLocalService(server)
            .setRemoteInterface(LanguageClient.class)
            .setInput(guarded)
            .setOutput(out)
            .wrapMessages(
                c -> {
                  if (c
                      instanceof
                      StreamMessageConsumer) { // the writer of outgoing messages (thread-safe)
                    outgoing.set(c);
                  }
                  return c;
                });
    if (executor != null) {
      b.setExecutorService(executor);
    }
    Launcher<LanguageClient> launcher = b.create();
    server.connect(launcher.getRemoteProxy());
    return launcher;
  }
}
