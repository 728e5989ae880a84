package dev.cmod.samples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.cli.Toolchain;
import dev.cmod.compiler.Cost;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.testkit.E2E;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every sample compiles at -O0 and -O2, runs on ONNX Runtime, and agrees with the reference
 * interpreter.
 */
class SamplesTest {
  static Stream<Path> samples() throws Exception {
    try (Stream<Path> s = Files.list(Path.of("."))) {
      List<Path> l = s.filter(p -> p.toString().endsWith(".cmod")).sorted().toList();
      assertTrue(l.size() >= 3, "expected at least three samples, found " + l);
      return l.stream();
    }
  }

  @ParameterizedTest
  @MethodSource("samples")
  void compilesRunsAndMatchesInterpreter(Path sample) {
    E2E.Built o0 = E2E.compileFile(sample, E2E.opts(0));
    E2E.Built o2 = E2E.compileFile(sample, E2E.opts(2));
    assertTrue(Cost.params(o2.graph()).total() > 1000, "a real architecture, not a toy");
    for (long[] sizes : new long[][] {{1, 5}, {3, 11}}) {
      Map<String, Long> sym = new LinkedHashMap<>();
      for (String s : o0.graph().symbols().keySet()) {
        sym.put(s, s.equals("batch") ? sizes[0] : sizes[1]);
      }
      Map<String, Tensor> in = E2E.inputs(o0, sym, 42);
      Map<String, Tensor> ref = E2E.assertOrtMatchesInterpreter(o0, in, 1e-4, 1e-5);
      Map<String, Tensor> opt = E2E.runOrt(o2.onnx(), in);
      for (String k : ref.keySet()) {
        E2E.assertClose(ref.get(k), opt.get(k), 1e-4, 1e-5, sample + " -O2 output " + k);
        assertEquals(sizes[0], opt.get(k).shape()[0], "batch dim of " + k);
      }
    }
  }

  @ParameterizedTest
  @MethodSource("samples")
  void compilingTwiceGivesIdenticalBytes(Path sample) {
    for (int level : new int[] {0, 2}) {
      byte[] a = Toolchain.compile(sample, E2E.opts(level)).onnx();
      byte[] b = Toolchain.compile(sample, E2E.opts(level)).onnx();
      assertArrayEquals(a, b, sample + " at -O" + level);
    }
  }
}
