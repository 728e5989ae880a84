package dev.cmod.ir.graph;

import dev.cmod.ir.tensor.Tensor;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

/** A content digest of a tensor, so structural comparisons (CSE) can tell constants apart. */
final class TensorDigest {
  private TensorDigest() {}

  static String of(Tensor t) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      md.update(t.dtype().text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      md.update(Arrays.toString(t.shape()).getBytes(java.nio.charset.StandardCharsets.UTF_8));
      ByteBuffer b = ByteBuffer.allocate(8);
      for (int i = 0; i < t.size(); i++) {
        b.clear();
        if (t.isFloat()) {
          b.putInt(Float.floatToIntBits(t.floats()[i]));
          md.update(b.array(), 0, 4);
        } else {
          b.putLong(t.longs()[i]);
          md.update(b.array(), 0, 8);
        }
      }
      return "sha256:" + HexFormat.of().formatHex(md.digest(), 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
