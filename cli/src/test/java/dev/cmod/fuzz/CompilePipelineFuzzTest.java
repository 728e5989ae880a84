package dev.cmod.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.cmod.compiler.BigStack;
import java.nio.charset.StandardCharsets;

/**
 * Fuzz targets for the whole compile pipeline, source text to ONNX bytes, as {@code cmod compile}
 * runs it: parse, load (imports resolved in a sandbox folder), elaborate, verify, optimize, emit
 * ONNX, and render the diagnostics; see {@link PipelineOracle} for what counts as a finding.
 *
 * <ul>
 *   <li>{@link #compileText}: the input bytes are the source file (seeds: the samples, the stdlib,
 *       the diagnostics suite's programs).
 *   <li>{@link #compileGenerated}: the input drives {@link CmodGenerator}, which emits a program
 *       from the grammar's constructs (mostly well typed, sometimes with random arguments), then
 *       applies token mutations; the optimization level (-O0/-O1/-O2) and seed come from the input.
 * </ul>
 *
 * <p>Regression mode (plain {@code mvn verify}) runs the committed inputs under {@code
 * src/test/resources/dev/cmod/fuzz/CompilePipelineFuzzTestInputs/<method>/}; fuzzing mode: {@code
 * JAZZER_FUZZ=1 mvn -o test -pl cli -Dtest=CompilePipelineFuzzTest#compileGenerated
 * -Djazzer.max_duration=60s '-Djazzer.instrument=dev.cmod.**'} (the compiler comes from jars, which
 * Jazzer does not instrument by default); {@code scripts/reliability.sh fuzz} runs every target.
 */
class CompilePipelineFuzzTest {

  @org.junit.jupiter.api.AfterAll
  static void stats() {
    System.err.println("CompilePipelineFuzzTest: " + PipelineOracle.stats());
  }

  @FuzzTest(maxDuration = "60s")
  // (no line breaks in entries: Jazzer 0.30 writes them unescaped into the libFuzzer dictionary)
  @DictionaryEntries({
    "import std.nn.{Linear, LayerNorm, Mlp, TransformerBlock}",
    "import \"./blocks.cmod\"",
    "model M {",
    "  input x: f32[4]",
    "  input i: Image[3, 8, 8]",
    "  input t: Text[seq] vocab 100 where seq <= 16",
    "  output y = x",
    "  let h = x |> Linear(4, 4)",
    "module B(d: int)(x: f32[..., d]) -> f32[..., d] {",
    "}",
    "repeat(2) ",
    "if true then x else x",
    "|>",
    "param w: f32[4, 4] = init.xavier",
    "compute tiny",
    "budget { params <= 1K }",
    "weights \"w.safetensors\"",
    "reshape(x, [batch, -1])",
    "softmax(x, axis = -1)",
    "concat([x, x], 1)",
    "slice(x, 1, 0, 2)",
    "conv2d(",
    "patchify(",
    "attention(",
    "topk(x, 2)",
    "2147483648",
    "9223372036854775807",
    "1e308",
    "[",
    "]",
    "(",
    ")",
    ",",
    "."
  })
  void compileText(byte[] data) throws Exception {
    String text = new String(data, StandardCharsets.UTF_8);
    BigStack.run(() -> PipelineOracle.check(text, 2, 0));
  }

  /** What {@link #compileGenerated} compiles for one input. */
  record Generated(int level, long seed, boolean mutated, String text) {
    /**
     * The program with its -O level and seed in a first comment line (the format of
     * findings/*.found.cmod).
     */
    String withHeader() {
      return "// -O" + level + " --seed " + seed + (mutated ? " (mutated)" : "") + "\n" + text;
    }
  }

  static Generated generated(FuzzedDataProvider data) {
    int level = data.consumeInt(0, 2);
    long seed = data.consumeInt(0, 3);
    boolean mutate = data.consumeInt(0, 2) == 2;
    String program = CmodGenerator.generate(data);
    return new Generated(
        level, seed, mutate, mutate ? CmodGenerator.mutate(data, program) : program);
  }

  /**
   * Prints the program of each compileGenerated input file given as an argument (to report or
   * replay a finding): {@code java -cp <test classpath>:jazzer_bootstrap.jar
   * dev.cmod.fuzz.CompilePipelineFuzzTest FILE...} (jazzer_bootstrap.jar is inside the jazzer jar,
   * under com/code_intelligence/jazzer/runtime/). Running the regression test with {@code
   * -Dcmod.fuzz.print=true} prints the same.
   */
  public static void main(String[] args) throws Exception {
    for (String a : args) {
      byte[] bytes = java.nio.file.Files.readAllBytes(java.nio.file.Path.of(a));
      System.out.println("===== " + a);
      try {
        System.out.println(
            generated(
                    com.code_intelligence.jazzer.driver.FuzzedDataProviderImpl.withJavaData(bytes))
                .withHeader());
      } catch (RuntimeException e) {
        System.out.println("(the generator failed: " + e + ")");
      }
    }
  }

  @FuzzTest(maxDuration = "60s")
  void compileGenerated(FuzzedDataProvider data) throws Exception {
    Generated g = generated(data);
    if (Boolean.getBoolean("cmod.fuzz.print")) {
      // -Dcmod.fuzz.print=true shows the program of each input (to report or minimize a finding)
      System.err.println("-----\n" + g.withHeader());
    }
    BigStack.run(() -> PipelineOracle.check(g.text(), g.level(), g.seed()));
  }
}
