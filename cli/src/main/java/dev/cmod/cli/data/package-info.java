/**
 * Real data around a model's tensors, for {@code cmod run} and the embedding API: text turned into
 * token ids ({@link dev.cmod.cli.data.TextTokenizer}: a Hugging Face {@code tokenizer.json} through
 * DJL, a WordPiece {@code vocab.txt}, or a plain per-character vocabulary), class labels read from
 * a label file ({@link dev.cmod.cli.data.LabelFile}), and outputs turned back into something a
 * person reads or plays: the top-k labels of class scores ({@link dev.cmod.cli.data.ClassScores}),
 * CTC output as text ({@link dev.cmod.cli.data.CtcDecoder}), audio as WAV ({@link
 * dev.cmod.cli.data.WavOutput}), images as PNG ({@link dev.cmod.cli.data.PngOutput}), written into
 * an output folder by {@link dev.cmod.cli.data.OutputFiles}.
 *
 * <p>Nothing here knows the language: the command line reads what a model declares ({@code
 * Text[seq] vocab N from tokenizer(...)}, {@code Class[N] from labels(...)}) and calls these
 * classes. Bad data is a {@link dev.cmod.cli.data.DataException} carrying a message and a help
 * line, which the caller turns into a located diagnostic.
 */
package dev.cmod.cli.data;
