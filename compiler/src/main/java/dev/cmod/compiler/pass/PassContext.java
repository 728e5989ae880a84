package dev.cmod.compiler.pass;

/**
 * What a pass reports while it runs, for statistics and the change log: how many rewrites of each
 * kind (a rule's name, or a pass's own word such as {@code merge}) and one line per change.
 */
public interface PassContext {
  /** Counts {@code n} rewrites of kind {@code what}. */
  void count(String what, int n);

  /** Records one change, in words (which node became what). */
  void note(String line);

  /** A context that keeps nothing, for running a pass outside a manager. */
  PassContext NONE =
      new PassContext() {
        @Override
        public void count(String what, int n) {}

        @Override
        public void note(String line) {}
      };
}
