package dev.cmod.lsp;

import java.io.InputStream;
import java.io.PrintStream;
import java.util.concurrent.ExecutionException;
import org.eclipse.lsp4j.jsonrpc.Launcher;
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
    Launcher<LanguageClient> launcher = LSPLauncher.createServerLauncher(server, in, out);
    server.connect(launcher.getRemoteProxy());
    try {
      launcher.startListening().get();
    } catch (ExecutionException e) {
      System.err.println("cmod-lsp: connection failed: " + e.getCause());
      System.exit(1);
    }
    System.exit(0); // the client closed the stream without exit
  }
}
