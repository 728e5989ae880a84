package dev.cmod.compiler.pass;

import java.util.List;
import java.util.Set;

/**
 * How a compilation runs its pipeline: passes left out by name, whether to verify the IR after
 * every pass (it is also verified when Java assertions are on, as in tests), and the instruments to
 * call.
 */
public record PassOptions(
    Set<String> disabled, boolean verifyEach, List<PassInstrument> instruments) {
  /** The plain pipeline: nothing disabled, no instruments, verification only under assertions. */
  public static final PassOptions NONE = new PassOptions(Set.of(), false, List.of());

  public PassOptions {
    disabled = Set.copyOf(disabled);
    instruments = List.copyOf(instruments);
  }

  /** These options with one more instrument. */
  public PassOptions with(PassInstrument i) {
    List<PassInstrument> all = new java.util.ArrayList<>(instruments);
    all.add(i);
    return new PassOptions(disabled, verifyEach, all);
  }
}
