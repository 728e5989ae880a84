package dev.cmod.onnx.emit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.ir.graph.Op;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The lowering table is complete: every operator has a lowering or a stated reason why not, never
 * both, and the operators without one are the leaves, which the emitter writes itself, and the
 * structured route, which the compiler lowers before emission.
 */
class LoweringTableTest {
  @Test
  void everyOperatorHasALoweringOrAReason() {
    List<String> problems = new ArrayList<>();
    for (Op op : Op.values()) {
      boolean lowered = LoweringTable.lowers(op);
      String reason = LoweringTable.notLowered().get(op);
      if (lowered == (reason != null)) {
        problems.add(
            op + (lowered ? ": a lowering and a reason" : ": neither lowering nor reason"));
      }
      if (reason != null && reason.isBlank()) {
        problems.add(op + ": a blank reason");
      }
    }
    assertEquals(List.of(), problems);
  }

  @Test
  void onlyTheLeavesTheRouteAndOpaqueRegionsAreNotLowered() {
    Set<Op> leaves = EnumSet.of(Op.ROUTE, Op.ONNX_REGION);
    for (Op op : Op.values()) {
      if (op.isLeaf()) {
        leaves.add(op);
      }
    }
    assertEquals(leaves, LoweringTable.notLowered().keySet());
  }

  @Test
  void lookUpGivesTheLoweringOrNamesTheOperator() {
    for (Op op : Op.values()) {
      if (LoweringTable.lowers(op)) {
        assertNotNull(LoweringTable.forOp(op), op.toString());
      } else {
        IllegalArgumentException e =
            assertThrows(IllegalArgumentException.class, () -> LoweringTable.forOp(op));
        assertTrue(e.getMessage().contains("'" + op.text() + "'"), e.getMessage());
      }
    }
    assertFalse(LoweringTable.lowers(Op.INPUT));
  }
}
