package dev.cmod.parity;

import dev.cmod.testkit.Need;
import dev.cmod.testkit.ParityCase;
import dev.cmod.testkit.Requires;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every case of the PyTorch parity corpus ({@code src/test/resources/pytorch-parity.cases}): the
 * std.nn modules, programs written from language.md, the shipped samples, LoRA, IA3, routing,
 * adapters, AdapterHub blocks, prefixes and prompts, hypernetworks, fusion, control and the modular
 * samples, each compiled at its levels with the reference's weights, run on ONNX Runtime and the IR
 * interpreter and compared with PyTorch; and the negative controls that must fail that comparison.
 * A new parity check is a block in the corpus (and its case in the reference script), not a class.
 */
@Requires(Need.TORCH)
class PyTorchParityTest {
  static List<ParityCase> cases() {
    return ParityCase.all();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void matchesPyTorch(ParityCase c) {
    c.check();
  }
}
