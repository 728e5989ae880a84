package dev.cmod.cli.data;

import dev.cmod.ir.io.AtomicFiles;
import dev.cmod.ir.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Decoded outputs (labels as JSON, text, WAV, PNG) written into the output folder beside the {@code
 * .npy} tensors. Every file goes through {@link AtomicFiles} — all of them or none, only regular
 * files replaced — and every name must be a plain file name, so a name made from a model's output
 * name can never reach outside the folder.
 */
public final class OutputFiles {
  private OutputFiles() {}

  /**
   * Writes {@code files} (file name to bytes) into the existing folder {@code dir}, all or none.
   *
   * @throws IllegalArgumentException for a name that is not a plain file name
   * @throws dev.cmod.ir.io.TensorFileException when a file cannot be written
   */
  public static void write(Path dir, Map<String, byte[]> files) {
    Map<Path, byte[]> out = new LinkedHashMap<>();
    for (Map.Entry<String, byte[]> e : files.entrySet()) {
      out.put(inside(dir, e.getKey()), e.getValue());
    }
    AtomicFiles.writeAll(out);
  }

  /** {@code dir}/{@code name}, refusing a name with a folder part, "." or "..". */
  static Path inside(Path dir, String name) {
    Path p = Path.of(name);
    if (name.isEmpty()
        || p.getNameCount() != 1
        || p.isAbsolute()
        || name.equals(".")
        || name.equals("..")
        || name.contains("/")
        || name.contains("\\")) {
      throw new IllegalArgumentException("not a plain file name: '" + name + "'");
    }
    return dir.resolve(p);
  }

  /**
   * The examples of an output: the tensor itself when its rank is {@code exampleRank}, one tensor
   * per index of its first axis when it has one more (a batch).
   *
   * @throws DataException for another rank
   */
  public static List<Tensor> examples(Tensor t, int exampleRank, String what) {
    long[] s = t.shape();
    if (s.length == exampleRank) {
      return List.of(t);
    }
    if (s.length != exampleRank + 1) {
      throw new DataException(
          what
              + " takes a tensor of rank "
              + exampleRank
              + " (or "
              + (exampleRank + 1)
              + " with a batch axis first); this output is "
              + Arrays.toString(s),
          null);
    }
    long[] one = Arrays.copyOfRange(s, 1, s.length);
    int size = (int) Tensor.numel(one);
    List<Tensor> out = new ArrayList<>();
    for (int i = 0; i < s[0]; i++) {
      out.add(
          t.isFloat()
              ? Tensor.ofFloats(
                  t.dtype(), one, Arrays.copyOfRange(t.floats(), i * size, (i + 1) * size))
              : Tensor.ofLongs(
                  t.dtype(), one, Arrays.copyOfRange(t.longs(), i * size, (i + 1) * size)));
    }
    return out;
  }
}
