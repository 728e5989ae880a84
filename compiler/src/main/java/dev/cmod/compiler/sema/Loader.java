package dev.cmod.compiler.sema;

import dev.cmod.compiler.ast.Ast.ConstDecl;
import dev.cmod.compiler.ast.Ast.Decl;
import dev.cmod.compiler.ast.Ast.FileAst;
import dev.cmod.compiler.ast.Ast.ImportDecl;
import dev.cmod.compiler.ast.Ast.ModelDecl;
import dev.cmod.compiler.ast.Ast.ModuleDecl;
import dev.cmod.compiler.ast.Ast.Name;
import dev.cmod.compiler.diag.DiagnosticCode;
import dev.cmod.compiler.diag.Diagnostics;
import dev.cmod.compiler.diag.SourceFile;
import dev.cmod.compiler.diag.Span;
import dev.cmod.compiler.syntax.Parsing;
import dev.cmod.ir.graph.OnnxImportService;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Loads a root file and everything it imports: stdlib modules from the classpath ({@code
 * std/nn.cmod} for {@code std.nn}), other files relative to the importing file. Detects cycles and
 * limits depth. Declares each file's consts and modules in its environment; consts are evaluated
 * later, in order.
 */
public final class Loader {
  public static final int MAX_IMPORT_DEPTH = 32;

  private final Diagnostics diags;
  private final Env builtins;
  private final Map<String, FileScope> loaded = new HashMap<>();
  private final Deque<String> stack = new ArrayDeque<>();

  private final ConstEvaluator consts;
  private final OnnxImportService onnxImports;

  /** Evaluates a const's value (compile-time only) in its file's scope. */
  public interface ConstEvaluator {
    Val eval(ConstDecl c, FileScope scope);
  }

  /** A loader that refuses {@code import onnx} (for sources that never import ONNX models). */
  public Loader(Diagnostics diags, Env builtins, ConstEvaluator consts) {
    this(diags, builtins, consts, null);
  }

  /**
   * @param onnxImports what checks and imports the models of {@code import onnx}; null refuses it
   */
  public Loader(
      Diagnostics diags, Env builtins, ConstEvaluator consts, OnnxImportService onnxImports) {
    this.diags = diags;
    this.builtins = builtins;
    this.consts = consts;
    this.onnxImports = onnxImports;
  }

  /** Reads a file as UTF-8 text, or reports why it cannot. Returns null on failure. */
  public static String readSource(Path p, Diagnostics diags, Span at, DiagnosticCode code) {
    return readSource(p, p.toString(), diags, at, code);
  }

  /** As above; {@code shown} is how the path appears in messages (as the user wrote it). */
  public static String readSource(
      Path p, String shown, Diagnostics diags, Span at, DiagnosticCode code) {
    try {
      byte[] bytes =
          dev.cmod.ir.io.SafeFiles.readAll(
              p, dev.cmod.ir.io.SafeFiles.Policy.USER, Parsing.MAX_SOURCE_CHARS);
      return decode(bytes);
    } catch (java.nio.file.NoSuchFileException e) {
      diags.error(code, at, "cannot read " + shown + ": no such file");
      return null;
    } catch (dev.cmod.ir.io.SafeFiles.RefusedException e) {
      if (e.getMessage().contains("over the limit")) {
        diags.error(DiagnosticCode.SOURCE_LIMIT, at, shown + " " + e.getMessage());
      } else {
        diags.error(code, at, "cannot read " + shown + ": it " + e.getMessage());
      }
      return null;
    } catch (CharacterCodingException e) {
      diags.error(DiagnosticCode.BAD_CHARACTER, at, shown + " is not UTF-8 text");
      return null;
    } catch (IOException e) {
      diags.error(code, at, "cannot read " + shown + ": " + dev.cmod.ir.io.SafeFiles.describe(e));
      return null;
    }
  }

  static String decode(byte[] bytes) throws CharacterCodingException {
    // a UTF-8 byte-order mark (EF BB BF), as editors on Windows write it, is not part of the text
    int skip =
        bytes.length >= 3
                && (bytes[0] & 0xff) == 0xEF
                && (bytes[1] & 0xff) == 0xBB
                && (bytes[2] & 0xff) == 0xBF
            ? 3
            : 0;
    return StandardCharsets.UTF_8
        .newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT)
        .decode(java.nio.ByteBuffer.wrap(bytes, skip, bytes.length - skip))
        .toString();
  }

  /** Loads the root source (already read). */
  public FileScope loadRoot(SourceFile source, Path path) {
    String key =
        path != null ? path.toAbsolutePath().normalize().toString() : "<root>:" + source.name();
    return load(source, path, key);
  }

  private FileScope load(SourceFile source, Path path, String key) {
    FileAst ast = Parsing.parse(source, diags);
    if (ast == null) {
      return null;
    }
    FileScope scope = new FileScope(source, ast, path, builtins);
    loaded.put(key, scope);
    stack.push(key);
    try {
      for (Decl d : ast.decls()) {
        if (d instanceof ImportDecl imp) {
          resolveImport(scope, imp);
        }
      }
      for (Decl d : ast.decls()) {
        if (d instanceof ModuleDecl m) {
          declare(scope, m.name(), new Val.ModuleV(new Val.ModuleDef(m, scope)));
        } else if (d instanceof ConstDecl c) {
          declare(scope, c.name(), consts.eval(c, scope));
        } else if (d instanceof ModelDecl m) {
          for (ModelDecl o : scope.models) {
            if (o.name().text().equals(m.name().text())) {
              diags.error(
                  DiagnosticCode.DUPLICATE,
                  m.name().span(),
                  "model '" + m.name().text() + "' is already declared");
            }
          }
          scope.models.add(m);
        } else {
        }
      }
    } finally {
      stack.pop();
    }
    return scope;
  }

  private void declare(FileScope scope, Name name, Val v) {
    if (scope.env.definesLocally(name.text())) {
      diags.error(
          DiagnosticCode.DUPLICATE,
          name.span(),
          "'" + name.text() + "' is already declared in this file",
          "rename one of them");
      return;
    }
    scope.env.define(name.text(), v);
  }

  private void resolveImport(FileScope scope, ImportDecl imp) {
    if (imp.kind() != dev.cmod.compiler.ast.Ast.ImportKind.STD && imp.file() == null) {
      return; // the path literal was invalid and is already reported
    }
    switch (imp.kind()) {
      case STD -> importStd(scope, imp);
      case FILE -> importFile(scope, imp);
      case WEIGHTS -> importWeights(scope, imp);
      case ONNX -> importOnnx(scope, imp);
    }
  }

  private Path relative(FileScope scope, ImportDecl imp) {
    Path base =
        scope.path != null ? scope.path.toAbsolutePath().getParent() : Path.of("").toAbsolutePath();
    try {
      return base.resolve(imp.file()).normalize();
    } catch (java.nio.file.InvalidPathException e) {
      diags.error(
          DiagnosticCode.IMPORT_NOT_FOUND, imp.fileSpan(), "invalid path \"" + imp.file() + "\"");
      return null;
    }
  }

  /** {@code import weights "f.safetensors" as b}: a parameter bundle for parameter arithmetic. */
  private void importWeights(FileScope scope, ImportDecl imp) {
    Path p = relative(scope, imp);
    if (p == null) {
      return;
    }
    if (PeftCheckpoint.isCheckpoint(p)) {
      try {
        declare(
            scope,
            imp.alias(),
            new Val.PeftV(imp.alias().text(), PeftCheckpoint.read(p), imp.span()));
      } catch (PeftCheckpoint.BadCheckpoint e) {
        diags.error(
            DiagnosticCode.PEFT_CHECKPOINT,
            imp.fileSpan(),
            imp.file() + ": " + e.getMessage(),
            "PEFT's save_pretrained writes adapter_config.json and adapter_model.safetensors");
      }
      return;
    }
    try {
      java.util.Map<String, dev.cmod.ir.tensor.Tensor> t =
          dev.cmod.ir.io.Safetensors.read(p, dev.cmod.ir.io.SafeFiles.Policy.MODEL);
      declare(scope, imp.alias(), new Val.BundleV(imp.alias().text(), t, imp.span()));
    } catch (dev.cmod.ir.io.TensorFileException e) {
      diags.error(DiagnosticCode.WEIGHTS_FILE, imp.fileSpan(), imp.file() + ": " + e.getMessage());
    } catch (RuntimeException e) {
      diags.error(
          DiagnosticCode.WEIGHTS_FILE,
          imp.fileSpan(),
          "cannot read " + imp.file() + ": " + e.getMessage());
    }
  }

  /**
   * {@code import onnx}: the file is read (present, a regular file, not a link), then checked and
   * imported by the compilation's {@link OnnxImportService}.
   */
  private void importOnnx(FileScope scope, ImportDecl imp) {
    Path p = relative(scope, imp);
    if (p == null) {
      return;
    }
    byte[] bytes;
    try {
      bytes =
          dev.cmod.ir.io.SafeFiles.readAll(
              p, dev.cmod.ir.io.SafeFiles.Policy.MODEL, MAX_ONNX_BYTES);
    } catch (java.nio.file.NoSuchFileException e) {
      diags.error(
          DiagnosticCode.ONNX_FILE, imp.fileSpan(), "cannot read " + imp.file() + ": no such file");
      return;
    } catch (IOException e) {
      diags.error(
          DiagnosticCode.ONNX_FILE,
          imp.fileSpan(),
          "cannot read "
              + imp.file()
              + ": "
              + (e instanceof dev.cmod.ir.io.SafeFiles.RefusedException ? "it " : "")
              + dev.cmod.ir.io.SafeFiles.describe(e));
      return;
    }
    if (onnxImports == null) {
      diags.error(
          DiagnosticCode.UNSUPPORTED,
          imp.span(),
          "import onnx needs the ONNX backend, which this compilation was not given",
          "run through the cmod command, or pass the backend's dev.cmod.onnx.OnnxImports.SERVICE"
              + " in the CompileOptions (withOnnxImports)");
      return;
    }
    List<String> problems = onnxImports.check(bytes, p.getParent());
    if (!problems.isEmpty()) {
      diags.error(
          DiagnosticCode.ONNX_FILE,
          imp.fileSpan(),
          imp.file() + " is not a valid ONNX model: " + problems.get(0),
          problems.size() > 1 ? "and " + (problems.size() - 1) + " more problem(s)" : null);
      return;
    }
    dev.cmod.ir.graph.ImportedModule.Signature sig = null;
    if (imp.signature() != null) {
      sig = ImportSignatureTypes.of(imp.signature(), diags);
      if (sig == null) {
        return;
      }
    }
    try {
      dev.cmod.ir.graph.ImportedModule m = onnxImports.load(bytes, p.getParent(), sig);
      declare(scope, imp.alias(), new Val.ImportedV(m, imp.alias().text()));
    } catch (dev.cmod.ir.graph.ImportedModule.ImportException e) {
      boolean aboutSignature = sig != null && e.getMessage().contains("signature");
      diags.error(
          DiagnosticCode.ONNX_FILE,
          aboutSignature ? imp.signature().span() : imp.fileSpan(),
          "cannot import " + imp.file() + ": " + e.getMessage(),
          aboutSignature
              ? "the signature lists the model's inputs in order, then the values to read"
              : "see docs/language.md for the ONNX operators cmod imports");
    }
  }

  /** Largest ONNX file cmod reads. */
  static final long MAX_ONNX_BYTES = 2L << 30;

  private void importStd(FileScope scope, ImportDecl imp) {
    List<Name> path = imp.path();
    String dotted = String.join(".", path.stream().map(Name::text).toList());
    Span at = path.get(0).span().to(path.get(path.size() - 1).span());
    if (!path.get(0).text().equals("std") || path.size() < 2) {
      diags.error(
          DiagnosticCode.IMPORT_NOT_FOUND,
          at,
          "unknown library '" + dotted + "'",
          "stdlib modules are imported as std.nn.{Linear}; other files as import \"./file.cmod\"");
      return;
    }
    String resource = String.join("/", path.stream().map(Name::text).toList()) + ".cmod";
    String key = "resource:" + resource;
    FileScope lib = loaded.get(key);
    if (lib == null) {
      if (stack.contains(key)) {
        diags.error(DiagnosticCode.IMPORT_CYCLE, at, "import cycle through " + dotted);
        return;
      }
      String text;
      try (InputStream in = Loader.class.getClassLoader().getResourceAsStream(resource)) {
        if (in == null) {
          diags.error(
              DiagnosticCode.IMPORT_NOT_FOUND,
              at,
              "no stdlib library '" + dotted + "'",
              "available: std.nn, std.peft, std.route, std.compose");
          return;
        }
        text = decode(in.readAllBytes());
      } catch (IOException e) {
        diags.error(
            DiagnosticCode.IMPORT_NOT_FOUND,
            at,
            "cannot read stdlib library '" + dotted + "': " + e.getMessage());
        return;
      }
      lib = load(new SourceFile(resource, text), null, key);
      if (lib == null) {
        return;
      }
    }
    for (Name n : imp.names()) {
      Val v = lib.env.definesLocally(n.text()) ? lib.env.lookup(n.text()) : null;
      if (v == null) {
        String near = Suggest.closest(n.text(), lib.env.visibleNamesLocal());
        diags.error(
            DiagnosticCode.IMPORT_NOT_FOUND,
            n.span(),
            dotted + " has no module '" + n.text() + "'",
            near == null ? null : "did you mean '" + near + "'?");
        continue;
      }
      declare(scope, n, v);
    }
  }

  private void importFile(FileScope scope, ImportDecl imp) {
    if (stack.size() >= MAX_IMPORT_DEPTH) {
      diags.error(
          DiagnosticCode.IMPORT_LIMIT,
          imp.span(),
          "imports nest deeper than " + MAX_IMPORT_DEPTH + " files");
      return;
    }
    Path base =
        scope.path != null ? scope.path.toAbsolutePath().getParent() : Path.of("").toAbsolutePath();
    Path target;
    try {
      target = base.resolve(imp.file()).normalize();
    } catch (java.nio.file.InvalidPathException e) {
      diags.error(
          DiagnosticCode.IMPORT_NOT_FOUND, imp.fileSpan(), "invalid path \"" + imp.file() + "\"");
      return;
    }
    String key = target.toString();
    if (stack.contains(key)) {
      diags.error(
          DiagnosticCode.IMPORT_CYCLE,
          imp.fileSpan(),
          "import cycle: " + imp.file() + " is already being imported",
          "move the shared modules into a third file that both import");
      return;
    }
    FileScope other = loaded.get(key);
    if (other == null) {
      String text =
          readSource(
              target,
              imp.file().startsWith("./") ? imp.file().substring(2) : imp.file(),
              diags,
              imp.fileSpan(),
              DiagnosticCode.IMPORT_NOT_FOUND);
      if (text == null) {
        return;
      }
      other = load(new SourceFile(displayName(target), text), target, key);
      if (other == null) {
        return;
      }
    }
    for (Decl d : other.ast.decls()) {
      if (d instanceof ModuleDecl m) {
        declare(scope, m.name(), other.env.lookup(m.name().text()));
      } else if (d instanceof ConstDecl c) {
        Val v = other.env.lookup(c.name().text());
        declare(scope, c.name(), v == null ? new Val.ErrorV() : v);
      }
    }
  }

  static String displayName(Path p) {
    Path cwd = Path.of("").toAbsolutePath();
    try {
      Path rel = cwd.relativize(p.toAbsolutePath());
      return rel.toString().startsWith("..") ? p.toString() : rel.toString();
    } catch (IllegalArgumentException e) {
      return p.toString();
    }
  }

  /** Every loaded file, in load order of first appearance. */
  public java.util.Collection<FileScope> files() {
    return loaded.values();
  }
}
