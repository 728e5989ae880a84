package dev.cmod.compiler.sema;

import dev.cmod.compiler.diag.Span;
import java.util.List;
import java.util.Map;

/** Positional and named arguments with their spans. */
record Args(
    List<Val> pos,
    List<Span> posSpans,
    Map<String, Val> named,
    Map<String, Span> namedSpans,
    Span span) {}
