package dev.cmod.compiler.diag;

/**
 * The catalog of diagnostics. Numbers are stable: never renumber or reuse one. {@code explain} is
 * what {@code cmod explain CMxxxx} prints: what the rule is, an example, and the fix.
 */
public enum DiagnosticCode {
  CONTEXT(
      0,
      Severity.NOTE,
      "context",
      "A note that accompanies another diagnostic, pointing at related code (for an error inside a library module: where your program applied it)."),
  SYNTAX(
      1,
      Severity.ERROR,
      "syntax error",
      "The text does not follow the grammar of .cmod.\n\n  let y = x |> \n\nA pipe needs a right-hand side.\nFix: complete the expression; the message lists what the parser expected."),
  UNTERMINATED(
      2,
      Severity.ERROR,
      "unterminated string or comment",
      "A string literal or /* comment */ runs to the end of the line or file.\n\n  import \"./blocks.cmod\n\nFix: close it with \" or */."),
  BAD_CHARACTER(
      3,
      Severity.ERROR,
      "unexpected character",
      "A character that is not part of the language (such as $ or #) appears outside a string or comment.\nFix: remove it."),
  SOURCE_LIMIT(
      4,
      Severity.ERROR,
      "source limit exceeded",
      "A source file is larger than the compiler accepts (4 MiB), or nests expressions deeper than 200 levels.\nFix: split the file, or name intermediate values with let."),
  BAD_LITERAL(
      5,
      Severity.ERROR,
      "invalid literal",
      "A number literal does not fit (integers are 64-bit) or a string has an unknown escape.\nFix: write the value within range."),
  UNKNOWN_NAME(
      100,
      Severity.ERROR,
      "unknown name",
      "A name is used that no let, param, argument, const, module or import declares.\n\n  let y = x |> Linaer(4, 8)\n\nFix: correct the spelling (the help line suggests the closest name) or import the module: import std.nn.{Linear}."),
  DUPLICATE(
      101,
      Severity.ERROR,
      "duplicate declaration",
      "Two declarations in one scope have the same name.\n\n  let h = ...\n  let h = ...\n\nFix: rename one of them."),
  IMPORT_NOT_FOUND(
      102,
      Severity.ERROR,
      "import not found",
      "An imported file or stdlib module does not exist.\n\n  import \"./blocks.cmod\"   // no such file next to this one\n  import std.nn.{Linr}     // std.nn has no Linr\n\nFix: check the path (relative to the importing file) or the name."),
  IMPORT_CYCLE(
      103,
      Severity.ERROR,
      "import cycle",
      "Files import each other in a cycle (a.cmod imports b.cmod, which imports a.cmod).\nFix: move the shared modules into a third file that both import."),
  IMPORT_LIMIT(
      104,
      Severity.ERROR,
      "import depth exceeded",
      "Imports nest deeper than 32 files.\nFix: flatten the import chain."),
  TYPE_MISMATCH(
      200,
      Severity.ERROR,
      "type mismatch",
      "A value of one kind is used where another is needed: a tensor where an integer is expected, a dtype that does not match, a module where a tensor is expected.\n\n  let y = x + ids     // f32 + i64\n\nFix: convert with cast(x, f32) or pass the right value."),
  SHAPE_MISMATCH(
      201,
      Severity.ERROR,
      "shape mismatch",
      "Two shapes that must agree do not: matmul inner dims, broadcasting, a module argument against its declared type, or a symbolic dim bound to two different sizes.\n\n  module M()(x: f32[..., 8]) -> f32[..., 8] { x }\n  ... M()(y)   // y: f32[batch, 4]\n\nFix: reshape or project the value (e.g. with Linear(4, 8)), or correct the declared type."),
  ARITY(
      202,
      Severity.ERROR,
      "wrong number of arguments",
      "A function, module or builtin gets more or fewer arguments than it declares.\nFix: pass exactly the declared arguments; defaults may be omitted."),
  UNKNOWN_ARGUMENT(
      203,
      Severity.ERROR,
      "unknown named argument",
      "A named argument does not name a parameter of the callee.\n\n  softmax(x, axes = -1)   // the parameter is axis\n\nFix: use the parameter's name."),
  NOT_CALLABLE(
      204,
      Severity.ERROR,
      "not callable",
      "Something that is neither a function, a module nor a module instance is called or piped into.\n\n  x |> 3\n\nFix: call a builtin, a module or an instance."),
  NOT_CONSTANT(
      205,
      Severity.ERROR,
      "compile-time value required",
      "A hyperparameter, axis, size, repeat count or if-condition must be known at compile time, but depends on a tensor.\n\n  if mean(x) > 0 then a else b\n\nFix: use where(cond, a, b) for a data-dependent choice."),
  BAD_DIM(
      206,
      Severity.ERROR,
      "invalid dimension",
      "A dimension is negative, zero where a size is needed, not an integer, or a reshape has more than one -1.\nFix: use positive integer sizes; at most one -1 in reshape."),
  OUTPUT_MISMATCH(
      207,
      Severity.ERROR,
      "output type mismatch",
      "A model output's expression does not have the declared type (after the implicit leading batch dim, which an exact type or one that places batch does not get).\n\n  output y: Vector[10] = logits   // logits: f32[batch, 12]\n\nFix: project to the declared size or change the declaration."),
  BOUND_VIOLATED(
      208,
      Severity.ERROR,
      "dimension bound violated",
      "A where clause bounds a symbolic dim and a known size breaks the bound, or the bound itself is inconsistent.\nFix: correct the bound or the size."),
  BAD_TYPE(
      209,
      Severity.ERROR,
      "invalid type",
      "A type is not a tensor type, a modality type or a scalar type, or has the wrong number of dims for its modality (Image takes [C, H, W]).\nFix: see section 2 of docs/language.md."),
  NO_RESULT(
      210,
      Severity.ERROR,
      "missing result",
      "A module body ends without an expression to return, or a model output declared without a value (output y: f32[4]) is never assigned.\nFix: end the body with an expression or return; assign the output once: y = ..."),
  RECURSION(
      211,
      Severity.ERROR,
      "recursive module",
      "A module instantiates itself, directly or through other modules, without end.\nFix: use repeat(n) M(...) to stack a fixed number of copies."),
  BUDGET(
      212,
      Severity.ERROR,
      "over budget",
      "The model needs more parameters or FLOPs than its budget or compute preset allows (presets: tiny 1M params, small 10M, medium 100M, large 1G; FLOPs are estimated per sample).\n\n  budget { params <= 1M }   // but the model has 3.2M parameters\n\nFix: shrink the model or raise the budget."),
  STRUCTURE_REDUCED(
      213,
      Severity.WARNING,
      "structure reduced to meet the token budget",
      "An attention's queries would see more keys than the model's `tokens` budget allows, so its keys and values are average-pooled along the sequence in windows of p = ceil(tokens / budget) positions: it attends over at most the budget's number of summaries, and its cost grows linearly with the input's length. The model computes something else than written; `cmod explain` lists each reduction.\n\n  budget { tokens <= 64 }\n  input x: Seq[seq, 32] where seq <= 512   // attention over 512 keys: pooled by 8\n\nFix: reduce the sequence yourself (patchify, pooling) before attention, raise the budget, or write `budget strict { ... }` to make this an error."),
  WEIGHTS_UNKNOWN_KEY(
      300,
      Severity.ERROR,
      "weights key names no parameter",
      "A weights file has a key that is not the path of any parameter of the model. A typo is never ignored.\n\n  key 'l1.weigth' in w.safetensors\n\nFix: rename the key to a parameter path (cmod explain FILE.cmod lists them)."),
  WEIGHTS_SHAPE(
      301,
      Severity.ERROR,
      "weights shape mismatch",
      "A weights tensor does not have exactly the shape of the parameter it sets.\nFix: export the weights in the layout of the parameter (cmod's Linear weight is [in, out], the transpose of PyTorch's)."),
  WEIGHTS_FILE(
      302,
      Severity.ERROR,
      "weights file unreadable",
      "A weights file is missing, truncated, or not a valid safetensors file.\nFix: check the path and re-export the file."),
  WEIGHTS_DEFAULTED(
      303,
      Severity.NOTE,
      "parameters keep their initializer",
      "A weights file was given but does not set every parameter; the listed ones keep their initializers."),
  PEFT_CHECKPOINT(
      310,
      Severity.ERROR,
      "bad adapter checkpoint",
      "A PEFT adapter (a folder, or adapter_model.safetensors with adapter_config.json beside it) has a config or keys cmod cannot read as PEFT means them: a missing or malformed r, lora_alpha or target_modules, a factor whose rank is not r, an unknown key, or a feature cmod does not import (DoRA, bias training, modules_to_save, per-module ranks).\n\n  import weights \"adapter/\" as style   // adapter_config.json: \"r\": 0\n\nFix: save the adapter with PEFT's save_pretrained, or correct the config."),
  KEY_UNMATCHED(
      311,
      Severity.ERROR,
      "checkpoint module sets no parameter",
      "A module of a Hugging Face or PEFT checkpoint maps to no layer of the cmod base, so its tensors would be ignored. A module maps automatically to the cmod path it equals or ends with; others need a written rule.\n\n  base with lora(from = style)   // adapter module 'mlp.fc1', the base has 'up'\n\nFix: add map = [[\"mlp.fc1\", \"up\"]] (a '*' stands for one path segment on both sides)."),
  KEY_SHAPE(
      312,
      Severity.ERROR,
      "checkpoint tensor does not fit its parameter",
      "A checkpoint tensor mapped to a cmod parameter has the wrong shape (after PyTorch's [out, in] is transposed to cmod's [in, out]).\nFix: map the module to the layer it was trained for, or build the base with the checkpoint's sizes."),
  KEY_AMBIGUOUS(
      313,
      Severity.ERROR,
      "checkpoint module maps to several parameters",
      "A checkpoint module could set more than one cmod layer, or a cmod layer could take more than one module, so the automatic key map cannot decide.\nFix: write the pairing in map = [[\"hf.module\", \"cmod.path\"]]."),
  KEY_MAP(
      314,
      Severity.ERROR,
      "malformed key map",
      "map = [...] is a list of pairs of strings, a Hugging Face module pattern and a cmod path pattern, with the same number of '*' (each one path segment).\n\n  map = [[\"encoder.layer.*.attention.self.query\", \"blocks.*.attn.q\"]]"),
  MERGE_ARGS(
      315,
      Severity.ERROR,
      "bad merge arguments",
      "A merge builtin (ties, dare, task_arithmetic) got arguments it cannot use: a base that is not an instance, deltas that are not weight bundles, a density outside (0, 1], a drop probability outside [0, 1).\n\n  ties(base, [a, b], density = 1.5)\n\nFix: pass the base instance, a list of bundles from import weights, and the parameters in range."),
  NO_MODEL(
      400,
      Severity.ERROR,
      "no model",
      "The file declares no model, or --model names one that does not exist.\nFix: add a model declaration, or pass --model with one of the listed names."),
  UNSUPPORTED(
      401,
      Severity.ERROR,
      "not supported yet",
      "The construct is part of the language but this version of the compiler does not implement it yet.\nFix: see docs/language.md for the implemented subset."),
  INPUT_MISMATCH(
      402,
      Severity.ERROR,
      "input does not match the model",
      "An input given to cmod run is missing, unknown, or has the wrong dtype or shape.\nFix: pass NAME=FILE.npy for each model input with the declared shape (cmod explain lists them)."),
  INPUT_FILE(
      403,
      Severity.ERROR,
      "input file unreadable",
      "A file given with --input is missing, is not a regular file (a FIFO, device or folder), is too large, or is not a valid .npy file.\nFix: pass NAME=FILE.npy with a .npy file written by numpy.save (or cmod run --output-dir)."),
  RUNTIME(
      404,
      Severity.ERROR,
      "ONNX Runtime failed",
      "ONNX Runtime refused the model or failed while running it, or the run was stopped at the time limit (CMOD_TIME_LIMIT).\nFix: read ONNX Runtime's message; check the model with cmod check or onnx.checker."),
  LIMIT(
      500,
      Severity.ERROR,
      "resource limit exceeded",
      "A tensor would be too large (more than 2^28 elements or 1 GiB for one parameter), or the graph too large.\nFix: reduce the size; these limits protect the compiler from absurd programs."),
  ONNX_FILE(
      501,
      Severity.ERROR,
      "invalid ONNX file",
      "An ONNX file is missing, is not a valid ONNX model, or refers to external data outside its folder.\nFix: check the file; external data must sit beside the model."),
  OUTPUT_FILE(
      600,
      Severity.ERROR,
      "cannot write output",
      "An output path cannot be written: it is a folder, a device, FIFO, socket or symbolic link (cmod replaces only regular files), its folder does not exist or is read-only, or the disk is full. Nothing is written in that case.\nFix: give a file name in a writable folder."),
  ENVIRONMENT(
      601,
      Severity.ERROR,
      "environment problem",
      "Something around cmod, not your program, stops it: the temporary folder is read-only or full (ONNX Runtime unpacks its native library there), or ONNX Runtime cannot start.\nFix: set TMPDIR (or CMOD_JAVA_OPTS=-Djava.io.tmpdir=DIR) to a writable folder."),
  PACKAGE_OUTPUT(
      620,
      Severity.ERROR,
      "cannot write the serving layout",
      "cmod package writes a whole folder (Triton's model repository, a DJL Serving model folder, a KServe manifest with its model repository) or nothing. It refuses an output that is a file or a symbolic link, a folder inside it reached through a symbolic link, and anything but a regular file where a layout file goes; a full disk or a read-only folder stops it too. The layout is first written to a temporary folder beside -o and moved into place only when complete, so nothing partial is left.\nFix: give -o a new or existing folder (not a link) in a writable place."),
  SERVE_ADDRESS(
      630,
      Severity.ERROR,
      "cannot listen",
      "cmod serve cannot listen on the address it was given: the port is taken by another program, the host is not an address of this machine, or a port below 1024 needs privileges.\nFix: pick another --port (0 takes any free one) or --host."),
  SERVE_MODEL(
      631,
      Severity.ERROR,
      "model cannot be served",
      "cmod serve carries tensors as v2 JSON: every input and output of the model must be a tensor of a numeric or boolean element type (no strings, sequences or maps).\nFix: serve a model whose inputs and outputs are numeric tensors, or wrap the others in the model."),
  ADAPTER_UNKNOWN(
      640,
      Severity.ERROR,
      "not an adapter parameter",
      "An adapter (a --adapter-weights file, or an .onnx_adapter file given to cmod run) holds a tensor whose name is not one of the model's run-time adapter parameters: the LoRA factors (<weight>.lora_a, <weight>.lora_b) and IA3 vectors (<weight>.ia3) that `with lora` / `with ia3` made, recorded in the artifact's cmod.adapters metadata.\nFix: name the tensors by those parameter paths (cmod explain lists them); the message names the closest one."),
  ADAPTER_MISMATCH(
      641,
      Severity.ERROR,
      "adapter parameter of the wrong shape or type",
      "An adapter's tensor has the name of a run-time adapter parameter but another shape or element type (a LoRA of another rank, a factor written transposed).\n\n  'l1.weight.lora_a' is f32[4, 3], the model's parameter is f32[4, 2]\n\nFix: export the adapter with the parameter's layout (cmod's weights are [in, out]), or compile the model with the adapter's rank."),
  ADAPTER_FILE(
      642,
      Severity.ERROR,
      "unusable adapter file or artifact",
      "An .onnx_adapter file is missing, not a regular file, or not in ONNX Runtime's adapter format (FlatBuffers with the identifier TORT), or cmod run --adapter was given a model compiled without run-time adapters (its metadata has no cmod.adapters).\nFix: compile the model with --adapters runtime and write the adapters with --adapter-out."),
  ADAPTER_OPTION(
      643,
      Severity.ERROR,
      "run-time adapters cannot be compiled this way",
      "--adapters runtime or runtime-stacked was asked for a model that has no `with lora` or `with ia3` composition, runtime-stacked without any --adapter-weights, or --adapter-out / --adapter-weights without --adapters runtime.\nFix: adapt an instance with `with lora(...) on ...`, give each adapter as --adapter-weights NAME=FILE.safetensors, and pick the layout with --adapters."),
  CODEC(
      700,
      Severity.ERROR,
      "bad data codec",
      "A codec declared with an input (from image(...), wav(...), tokenizer(...), chars(...), labels(...)) or an output (to labels(...), ctc(...), tokenizer(...), chars(...), wav(...), png(...)) does not fit the port's type, has an unknown or ill-typed argument, or names a file that is unreadable or does not agree with the declared sizes.\n\n  input photo: Image[3, 224, 224] from image(resize = 256)\n\nThe shorter side becomes 256 and the other follows the file, but the input declares 224 x 224.\nFix: add crop = 224 (or resize = [224, 224])."),
  DATA(
      701,
      Severity.ERROR,
      "input data cannot be decoded",
      "A file or value given to cmod run does not decode the way its input declares: an image that is not PNG/JPEG/BMP/GIF or is corrupt, a WAV in an encoding cmod does not read (compressed, A-law), a sample rate that cannot be resampled, text longer than its bound under strict, a label not in the label file.\nFix: read the message; convert the file, or change the codec's arguments."),
  INTERNAL(
      900,
      Severity.ERROR,
      "internal compiler error",
      "The compiler failed in a way that is a bug in cmod, not in your program. Please report it with the source file.");

  public final int number;
  public final Severity severity;
  public final String title;
  public final String explanation;

  DiagnosticCode(int number, Severity severity, String title, String explanation) {
    this.number = number;
    this.severity = severity;
    this.title = title;
    this.explanation = explanation;
  }

  public String id() {
    return String.format("CM%04d", number);
  }

  public static DiagnosticCode byId(String id) {
    for (DiagnosticCode c : values()) {
      if (c.id().equalsIgnoreCase(id)) {
        return c;
      }
    }
    return null;
  }
}
