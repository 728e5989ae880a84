package dev.cmod.ir.media;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.ir.io.Npy;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.testkit.Need;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every image step against an independent implementation run by the test in Debian's Python: PIL
 * for colour conversion and resizing (on mode {@code "F"} images, one per channel, which PIL
 * resamples in float), torchvision for the shorter-side resize and center crop, numpy for
 * PaddleOCR's resize rule, padding, scale and normalize. Inputs are random planes the script writes
 * as {@code .npy}; the references come back the same way and must agree to 1e-5.
 */
class ImageStepsTest {
  private static final float TOL = 1e-5f;

  @TempDir Path dir;

  private Planes planes(String name) {
    return Planes.of(Npy.read(dir.resolve(name + ".npy")));
  }

  private void assertPlanes(String name, Planes got) {
    Tensor want = Npy.read(dir.resolve(name + ".npy"));
    assertArrayEquals(
        want.shape(), new long[] {got.channels(), got.height(), got.width()}, name + " shape");
    float[] w = want.floats();
    for (int i = 0; i < w.length; i++) {
      if (Math.abs(w[i] - got.data()[i]) > TOL) {
        throw new AssertionError(
            name + ": value " + i + " is " + got.data()[i] + ", PIL/numpy give " + w[i]);
      }
    }
  }

  private static final String HELPERS =
      """
      import numpy as np
      from PIL import Image
      rng = np.random.default_rng(11)
      def planes(c, h, w):
          return rng.uniform(0, 1, (c, h, w)).astype(np.float32)
      F = {'nearest': Image.NEAREST, 'bilinear': Image.BILINEAR,
           'bicubic': Image.BICUBIC, 'lanczos': Image.LANCZOS}
      def pil_resize(x, h, w, f):
          return np.stack([np.asarray(Image.fromarray(p, 'F').resize((w, h), F[f]))
                           for p in x]).astype(np.float32)
      """;

  @Test
  void resizeIsPilsOnFloatPlanes() throws Exception {
    Need.PIL.require();
    // {from h, from w, to h, to w}: shrink, enlarge, both at once, one axis unchanged, odd factors
    int[][] cases = {
      {17, 23, 7, 11},
      {9, 13, 31, 20},
      {20, 10, 8, 25},
      {10, 14, 10, 5},
      {12, 12, 12, 29},
      {37, 41, 5, 3},
      {3, 2, 64, 48},
      {15, 15, 14, 16}
    };
    StringBuilder py = new StringBuilder(HELPERS);
    for (int i = 0; i < cases.length; i++) {
      int[] c = cases[i];
      py.append("x = planes(3, %d, %d)\nnp.save('in%d.npy', x)\n".formatted(c[0], c[1], i));
      py.append(
          "for f in F:\n    np.save('out%d_' + f + '.npy', pil_resize(x, %d, %d, f))\n"
              .formatted(i, c[2], c[3]));
    }
    Need.runPython(dir, py.toString());
    for (int i = 0; i < cases.length; i++) {
      Planes in = planes("in" + i);
      for (Interpolation f : Interpolation.values()) {
        assertPlanes(
            "out" + i + "_" + f.label(), ImageSteps.resize(in, cases[i][2], cases[i][3], f));
      }
    }
  }

  @Test
  void greyIsPilsLumaAndRgbRepeatsIt() throws Exception {
    Need.PIL.require();
    Need.runPython(
        dir,
        HELPERS
            + """
            rgb = rng.integers(0, 256, (9, 14, 3), dtype=np.uint8)
            Image.fromarray(rgb, 'RGB').save('rgb.png')
            np.save('rgb.npy', (rgb.astype(np.float32) / 255).transpose(2, 0, 1))
            # PIL's own conversion of the 8-bit picture, in float, then to [0, 1]
            f = np.asarray(Image.open('rgb.png').convert('F'), dtype=np.float32) / 255
            np.save('grey_pil.npy', f[None])
            # the ITU-R 601-2 formula on float planes
            x = planes(3, 6, 5)
            np.save('planes.npy', x)
            np.save('grey_formula.npy', (x[0] * 0.299 + x[1] * 0.587 + x[2] * 0.114)[None])
            l = np.asarray(Image.open('rgb.png').convert('L'))
            np.save('l.npy', (l.astype(np.float32) / 255)[None])
            np.save('l_rgb.npy', np.asarray(Image.fromarray(l, 'L').convert('RGB'),
                                            dtype=np.float32).transpose(2, 0, 1) / 255)
            """);
    assertPlanes("rgb", MediaFiles.readImage(dir.resolve("rgb.png"), 3));
    assertPlanes("grey_pil", ImageSteps.toGray(MediaFiles.readImage(dir.resolve("rgb.png"), 3)));
    assertPlanes("grey_formula", ImageSteps.toGray(planes("planes")));
    assertPlanes("l", MediaFiles.readImage(dir.resolve("rgb.png"), 1));
    assertPlanes("l_rgb", ImageSteps.toRgb(planes("l")));
  }

  @Test
  void shorterSideResizeAndCenterCropAreTorchvisions() throws Exception {
    Need.TORCHVISION.require();
    // {h, w, shorter side, crop h, crop w}: landscape, portrait, square, odd margins, a crop
    // larger than the image (torchvision pads it with zeros first)
    int[][] cases = {
      {30, 45, 16, 14, 14},
      {41, 27, 20, 19, 17},
      {25, 25, 12, 9, 10},
      {33, 50, 17, 16, 21},
      {20, 31, 10, 13, 18}
    };
    StringBuilder py =
        new StringBuilder(
            HELPERS
                + """
                import torch
                from torchvision import transforms as T
                from torchvision.transforms import InterpolationMode as M
                MODES = {'nearest': M.NEAREST, 'bilinear': M.BILINEAR, 'bicubic': M.BICUBIC,
                         'lanczos': M.LANCZOS}
                """);
    for (int i = 0; i < cases.length; i++) {
      int[] c = cases[i];
      py.append(
          """
          x = planes(3, %d, %d)
          np.save('in%d.npy', x)
          for f, m in MODES.items():
              r = np.stack([np.asarray(T.Resize(%d, interpolation=m)(Image.fromarray(p, 'F')))
                            for p in x]).astype(np.float32)
              np.save('resized%d_' + f + '.npy', r)
          np.save('crop%d.npy', T.CenterCrop((%d, %d))(torch.from_numpy(x)).numpy())
          """
              .formatted(c[0], c[1], i, c[2], i, i, c[3], c[4]));
    }
    Need.runPython(dir, py.toString());
    for (int i = 0; i < cases.length; i++) {
      Planes in = planes("in" + i);
      for (Interpolation f : Interpolation.values()) {
        assertPlanes("resized" + i + "_" + f.label(), ImageSteps.resizeShorter(in, cases[i][2], f));
      }
      assertPlanes("crop" + i, ImageSteps.centerCrop(in, cases[i][3], cases[i][4]));
    }
  }

  @Test
  void paddleOcrLineResizePadAndNormalizeAreNumpys() throws Exception {
    Need.PIL.require();
    // {h, w}: a line narrower than the maximum width, one wider, one exactly at a boundary
    List<int[]> sizes = List.of(new int[] {32, 100}, new int[] {20, 400}, new int[] {24, 160});
    StringBuilder py = new StringBuilder(HELPERS + "import math\n");
    for (int i = 0; i < sizes.size(); i++) {
      int[] s = sizes.get(i);
      py.append(
          """
          x = planes(3, %d, %d)
          np.save('line%d.npy', x)
          h, w = x.shape[1:]
          rw = min(int(math.ceil(48 * (w / float(h)))), 320)
          r = pil_resize(x, 48, rw, 'bilinear')
          np.save('resized%d.npy', r)
          padded = np.full((3, 48, 320), -1.0, dtype=np.float32)
          padded[:, :, :rw] = r
          np.save('padded%d.npy', padded)
          mean = np.array([0.485, 0.456, 0.406], dtype=np.float32)[:, None, None]
          std = np.array([0.229, 0.224, 0.225], dtype=np.float32)[:, None, None]
          np.save('norm%d.npy', (r * np.float32(1.5) - mean) / std)
          np.save('half%d.npy', (r - np.float32(0.5)) / np.float32(0.5))
          """
              .formatted(s[0], s[1], i, i, i, i, i));
    }
    Need.runPython(dir, py.toString());
    for (int i = 0; i < sizes.size(); i++) {
      Planes r = ImageSteps.resizeToHeight(planes("line" + i), 48, 320, Interpolation.BILINEAR);
      assertPlanes("resized" + i, r);
      assertPlanes("padded" + i, ImageSteps.pad(r, 48, 320, -1f));
      float[] mean = {0.485f, 0.456f, 0.406f};
      float[] std = {0.229f, 0.224f, 0.225f};
      assertPlanes("norm" + i, ImageSteps.normalize(ImageSteps.scale(r, 1.5f), mean, std));
      assertPlanes("half" + i, ImageSteps.normalize(r, new float[] {0.5f}, new float[] {0.5f}));
    }
  }

  @Test
  void sizeRulesByHand() {
    // torchvision: the long side is int(S * long / short)
    assertArrayEquals(new int[] {256, 341}, ImageSteps.shorterSideSize(480, 640, 256));
    assertArrayEquals(new int[] {341, 256}, ImageSteps.shorterSideSize(640, 480, 256));
    assertArrayEquals(new int[] {224, 224}, ImageSteps.shorterSideSize(50, 50, 224));
    // PaddleOCR: ceil(48 * w / h), at most the maximum width
    assertEquals(150, ImageSteps.heightResizeWidth(32, 100, 48, 320));
    assertEquals(320, ImageSteps.heightResizeWidth(20, 400, 48, 320));
    // center crop: round half to even, as Python's round
    Planes p = new Planes(1, 1, 4, new float[] {0, 1, 2, 3});
    assertArrayEquals(new float[] {0, 1, 2}, ImageSteps.centerCrop(p, 1, 3).data(), 0f); // 0.5→0
    Planes q = new Planes(1, 1, 6, new float[] {0, 1, 2, 3, 4, 5});
    assertArrayEquals(new float[] {2, 3, 4}, ImageSteps.centerCrop(q, 1, 3).data(), 0f); // 1.5→2
    assertTrue(ImageSteps.centerCrop(q, 1, 1).data()[0] == 2f); // 2.5→2
  }
}
