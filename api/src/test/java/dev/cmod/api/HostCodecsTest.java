package dev.cmod.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.cli.HostCodecs;
import dev.cmod.cli.Main;
import dev.cmod.ir.io.Npy;
import dev.cmod.ir.tensor.Tensor;
import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java API reads real data through a model's declared codecs and decodes its outputs exactly as
 * {@code cmod run} does: the same picture resized, cropped and normalized, the same labels in and
 * ranked labels out (the command line's own outputs are the oracle, themselves held to PIL and
 * numpy by the cli's CodecRunTest); bad data is a DataException with its code.
 */
class HostCodecsTest {
  @TempDir Path dir;

  private static final String MODEL =
      """
      model Pick {
        input photo: Image[3, 8, 8] from image(resize = 10, crop = 8, mean = 0.5, std = 0.25)
        input species: Class[3] from labels("species.txt")
        output seen: f32[3, 8, 8] = photo
        output kind: f32[3] to labels("species.txt", top = 1) = one_hot(species, 3) * 3.0
      }
      """;

  @Test
  void realDataGoesInAndComesOutAsTheCommandLineDoesIt() throws Exception {
    Files.writeString(dir.resolve("species.txt"), "cat\ndog\nbird\n");
    Path src = dir.resolve("pick.cmod");
    Files.writeString(src, MODEL);
    BufferedImage img = new BufferedImage(13, 11, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 11; y++) {
      for (int x = 0; x < 13; x++) {
        img.setRGB(x, y, (x * 19 << 16) | (y * 23 << 8) | ((x + y) * 9));
      }
    }
    Path png = dir.resolve("p.png");
    ImageIO.write(img, "png", png.toFile());

    CompiledModel m = Cmod.standard().compile(src);
    Map<String, Tensor> in =
        m.inputsFrom(Map.of("photo", List.of(png.toString()), "species", List.of("bird", "cat")));
    assertArrayEquals(new long[] {2, 0}, in.get("species").longs());
    Map<String, Tensor> out;
    try (Session s = m.open()) {
      // one picture, two labels: the batch of the picture is 1, so run each label alone
      out = s.run(Map.of("photo", in.get("photo"), "species", Cmod.longs(new long[] {2}, 1)));
    }
    Path cli = dir.resolve("cli");
    assertEquals(
        0,
        Main.execute(
            "run",
            src.toString(),
            "--input",
            "photo=" + png,
            "--input",
            "species=bird",
            "--output-dir",
            cli.toString()));
    assertArrayEquals(Npy.read(cli.resolve("seen.npy")).floats(), out.get("seen").floats(), 0f);
    Map<String, HostCodecs.Decoded> d = m.decode(out);
    assertEquals("labels", d.get("kind").kind());
    assertTrue(d.get("kind").lines().get(0).startsWith("bird "), d.get("kind").lines().toString());
    assertEquals(
        Files.readString(cli.resolve("kind.json")),
        new String(d.get("kind").files().get("kind.json"), StandardCharsets.UTF_8));

    HostCodecs.DataException e =
        assertThrows(
            HostCodecs.DataException.class, () -> m.inputsFrom(Map.of("species", List.of("cow"))));
    assertEquals("CM0701", e.code());
    assertTrue(e.getMessage().contains("cow"), e.getMessage());
  }
}
