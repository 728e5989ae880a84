package dev.cmod.lsp;

import dev.cmod.compiler.Compilation;
import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.SourceFile;
import dev.cmod.compiler.diag.Span;
import dev.cmod.compiler.sema.CompileOptions;
import dev.cmod.onnx.OnnxImports;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.lsp4j.Diagnostic;
import org.eclipse.lsp4j.DiagnosticSeverity;
import org.eclipse.lsp4j.Position;
import org.eclipse.lsp4j.Range;

/**
 * What the server publishes for one document: the compiler's diagnostics for every model of it
 * (like {@code cmod check}, at -O0, with {@code import onnx} through the backend's service),
 * converted to LSP ranges, each repeated file-level diagnostic kept once, and capped per document.
 */
final class DocumentCheck {
  private DocumentCheck() {}

  /** The first {@code max} diagnostics, and one more that counts the rest. */
  static List<Diagnostic> cap(List<Diagnostic> ds, int max) {
    // the compiler's own "and N more errors" note (last, with the count as data) is kept or merged
    Diagnostic compilerMore =
        !ds.isEmpty() && ds.get(ds.size() - 1).getData() instanceof Integer
            ? ds.get(ds.size() - 1)
            : null;
    int real = compilerMore != null ? ds.size() - 1 : ds.size();
    if (real <= max) {
      return ds;
    }
    List<Diagnostic> out = new ArrayList<>(ds.subList(0, max));
    int errors = 0;
    for (Diagnostic d : ds.subList(max, real)) {
      if (d.getSeverity() == DiagnosticSeverity.Error) {
        errors++;
      }
    }
    int more = real - max;
    if (compilerMore != null) {
      more += (Integer) compilerMore.getData();
      errors += (Integer) compilerMore.getData();
    }
    out.add(
        note(
            DiagnosticSeverity.Information,
            "and "
                + more
                + " more diagnostic"
                + (more == 1 ? "" : "s")
                + " ("
                + errors
                + " of them error"
                + (errors == 1 ? "" : "s")
                + ") not shown: cmod-lsp publishes at most "
                + max
                + " per document; `cmod check` lists them all"));
    return out;
  }

  /** A diagnostic of the server itself, on the document's first character. */
  static Diagnostic note(DiagnosticSeverity severity, String message) {
    Diagnostic d = new Diagnostic(new Range(new Position(0, 0), new Position(0, 0)), message);
    d.setSeverity(severity);
    d.setSource("cmod-lsp");
    return d;
  }

  /**
   * Compiles a document (every model of it, like {@code cmod check}) and converts the diagnostics.
   */
  static List<Diagnostic> check(String uri, String text) {
    Path path = pathOf(uri);
    SourceFile source = new SourceFile(fileName(uri, path), text);
    // -O0: the same diagnostics as -O2, without spending time on optimization at every keystroke
    CompileOptions base =
        CompileOptions.defaults().withOptLevel(0).withOnnxImports(OnnxImports.SERVICE);
    List<Compilation.Result> results = Compilation.compileAll(source, path, base);
    Compilation.Result first = results.get(0);
    List<dev.cmod.compiler.diag.Diagnostic> all = new ArrayList<>(first.diagnostics().all());
    if (results.size() > 1) {
      // later models repeat the file-level diagnostics: keep each once (a set, not a scan: a
      // document may have a great many)
      java.util.Set<DiagKey> seen = new java.util.HashSet<>();
      for (dev.cmod.compiler.diag.Diagnostic d : all) {
        seen.add(DiagKey.of(d));
      }
      for (Compilation.Result r : results.subList(1, results.size())) {
        for (dev.cmod.compiler.diag.Diagnostic d : r.diagnostics().all()) {
          if (seen.add(DiagKey.of(d))) {
            all.add(d);
          }
        }
      }
    }
    List<Diagnostic> out =
        new ArrayList<>(DiagnosticMapper.convert(all, source, first.models().isEmpty()));
    int suppressed = 0;
    for (Compilation.Result r : results) {
      suppressed = Math.max(suppressed, r.diagnostics().suppressed());
    }
    if (suppressed > 0) {
      // the compiler keeps the first errors and counts the rest; say how many
      Diagnostic more =
          note(
              DiagnosticSeverity.Information,
              "and "
                  + suppressed
                  + " more error"
                  + (suppressed == 1 ? "" : "s")
                  + " not shown: the compiler reports the first "
                  + dev.cmod.compiler.diag.Diagnostics.MAX_ERRORS
                  + " per compilation");
      more.setData(suppressed);
      out.add(more);
    }
    return out;
  }

  /** What makes two diagnostics the same: code, message and span (its file by identity). */
  private record DiagKey(DiagnosticCode code, String message, Object file, int start, int end) {
    static DiagKey of(dev.cmod.compiler.diag.Diagnostic d) {
      Span s = d.span();
      return s == null
          ? new DiagKey(d.code(), d.message(), null, -1, -1)
          : new DiagKey(d.code(), d.message(), new Identity(s.file()), s.start(), s.end());
    }
  }

  /** Equal only to a wrapper of the same object. */
  private record Identity(Object o) {
    @Override
    public boolean equals(Object other) {
      return other instanceof Identity i && i.o == o;
    }

    @Override
    public int hashCode() {
      return System.identityHashCode(o);
    }
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
}
