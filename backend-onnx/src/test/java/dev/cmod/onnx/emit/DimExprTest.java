package dev.cmod.onnx.emit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.cmod.ir.type.Dim;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The parser of Dim renderings agrees with Dim.eval. */
class DimExprTest {
  private static final Dim B = Dim.sym("batch");
  private static final Dim S = Dim.sym("seq");
  private static final Dim H = Dim.sym("h");

  @Test
  void parsesCanonicalRenderingsAndEvaluatesLikeDim() {
    List<Dim> dims =
        List.of(
            B,
            B.times(S),
            S.plus(Dim.of(16)),
            Dim.of(2).times(H).times(S),
            S.div(Dim.of(16)),
            Dim.of(1).minus(S),
            S.minus(Dim.of(1)),
            Dim.of(3).minus(S.times(Dim.of(3))),
            S.times(S),
            S.div(Dim.of(4)).times(H.div(Dim.of(2))),
            S.plus(Dim.of(1)).div(Dim.of(2)),
            S.plus(Dim.of(7)).div(H),
            B.times(S.plus(Dim.of(1)).div(Dim.of(2))).plus(Dim.of(5)),
            S.plus(Dim.of(3)).div(Dim.of(2)).plus(Dim.of(1)).div(Dim.of(3)),
            Dim.of(0),
            Dim.of(42));
    for (Map<String, Long> env :
        List.of(
            Map.of("batch", 3L, "seq", 37L, "h", 5L), Map.of("batch", 1L, "seq", 2L, "h", 9L))) {
      for (Dim d : dims) {
        DimExpr e = DimExpr.parse(d.toString());
        assertEquals(d.eval(env::get), e.eval(env::get), "dim " + d + " parsed as " + e);
      }
    }
  }

  @Test
  void rejectsGarbage() {
    for (String s : List.of("", "seq+", "(seq/2", "2**h", "seq)", "_", "(a+b)")) {
      assertThrows(IllegalArgumentException.class, () -> DimExpr.parse(s), s);
    }
  }
}
