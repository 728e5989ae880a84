package dev.cmod.ir.interp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SpecialFunctionsTest {
  private static void rel(double want, double got) {
    assertEquals(want, got, Math.abs(want) * 1e-12, "want " + want + " got " + got);
  }

  @Test
  void erfKnownValues() {
    rel(0.5204998778130465, SpecialFunctions.erf(0.5));
    rel(0.8427007929497149, SpecialFunctions.erf(1));
    rel(0.9953222650189527, SpecialFunctions.erf(2));
    rel(-0.9999779095030014, SpecialFunctions.erf(-3));
    rel(0.1124629160182849, SpecialFunctions.erf(0.1));
    rel(0.9999999845827421, SpecialFunctions.erf(4));
    rel(1.1283791670955126e-10, SpecialFunctions.erf(1e-10));
    assertEquals(1.0, SpecialFunctions.erf(10));
    assertEquals(-1.0, SpecialFunctions.erf(Double.NEGATIVE_INFINITY));
    assertEquals(0.0, SpecialFunctions.erf(0.0));
    assertTrue(Double.isNaN(SpecialFunctions.erf(Double.NaN)));
  }

  @Test
  void erfIsOddAndMonotoneAcrossTheSwitchPoint() {
    double prev = -1;
    for (double x = -6; x <= 6; x += 0.01) {
      double e = SpecialFunctions.erf(x);
      assertEquals(-e, SpecialFunctions.erf(-x), 1e-16);
      assertTrue(e >= prev, "erf not monotone at " + x);
      prev = e;
    }
    rel(SpecialFunctions.erf(2.5 - 1e-12), SpecialFunctions.erf(2.5));
  }

  @Test
  void erfcTails() {
    rel(2.209049699858544e-05, SpecialFunctions.erfc(3));
    rel(1.5374597944280349e-12, SpecialFunctions.erfc(5));
    rel(2.088487583762545e-45, SpecialFunctions.erfc(10));
    rel(1.9999779095030015, SpecialFunctions.erfc(-3));
    rel(0.4795001221869535, SpecialFunctions.erfc(0.5));
  }
}
