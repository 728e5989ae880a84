package dev.cmod.compiler.sema;

import dev.cmod.compiler.ast.Ast.FileAst;
import dev.cmod.compiler.ast.Ast.ModelDecl;
import dev.cmod.compiler.diag.SourceFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One loaded source file: its AST, its top-level environment (consts, modules, imports) and its
 * models.
 */
public final class FileScope {
  final SourceFile source;
  final FileAst ast;
  final Path path; // null for stdlib resources and in-memory sources
  final Env env;
  final List<ModelDecl> models = new ArrayList<>();

  FileScope(SourceFile source, FileAst ast, Path path, Env builtins) {
    this.source = source;
    this.ast = ast;
    this.path = path;
    this.env = new Env(builtins);
  }

  public SourceFile source() {
    return source;
  }

  public List<ModelDecl> models() {
    return models;
  }

  public Path path() {
    return path;
  }
}
