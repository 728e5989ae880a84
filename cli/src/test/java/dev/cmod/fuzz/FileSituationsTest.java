package dev.cmod.fuzz;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.cmod.ir.io.Npy;
import dev.cmod.ir.io.Safetensors;
import dev.cmod.ir.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A property test of file-system situations: each iteration draws (from a seeded Random) the kind
 * of file at every path a cmod command reads or writes, hostile output names and external-data
 * locations, runs the command, and checks the invariants: exit 0, 1 or 2; a CM code on failure; no
 * stack trace and no CM0900; nothing created or changed outside the case folder; on failure nothing
 * left; on success exactly the expected outputs; a file a model names that is a link is refused; an
 * end within 10 s. {@code -Dcmod.situations.seed=N} and {@code -Dcmod.situations.iterations=N}
 * replay or widen it; a failure prints the seed and the situation.
 */
class FileSituationsTest {
  private static final long SEED = Long.getLong("cmod.situations.seed", 20261201L);
  private static final int ITERATIONS = Integer.getInteger("cmod.situations.iterations", 200);
  private static final Pattern CODE = Pattern.compile("error\\[CM\\d{4}]");
  private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9._-]+\\.npy");
  private static final String MLP =
      """
      import std.nn.{Linear}
      model Mlp {
        input x: f32[4]
        let l1 = Linear(4, 8)
        output y: f32[3] = x |> l1 |> relu |> Linear(8, 3)
      }
      """;

  /** What sits at a path. */
  enum Kind {
    REGULAR,
    MISSING,
    FOLDER,
    FIFO,
    LINK_INSIDE,
    LINK_OUTSIDE,
    HARD_LINK,
    EMPTY,
    SPARSE,
    TRUNCATED
  }

  @TempDir Path root;

  private Random rnd;
  private Path dir;
  private Path outside;
  private final List<String> situation = new ArrayList<>();

  private Kind kind(boolean linksOk) {
    Kind[] all = Kind.values();
    Kind k = all[rnd.nextInt(all.length)];
    if (k == Kind.FIFO && !Hostile.canMakeFifo()) {
      k = Kind.MISSING;
    }
    // half the time the file is simply fine, so that successes are exercised too
    return rnd.nextInt(3) == 0 ? Kind.REGULAR : k;
  }

  /** Puts a file of kind {@code k} at {@code p} whose good content is {@code good}. */
  private void place(Path p, Kind k, byte[] good, String role) throws Exception {
    situation.add(role + " " + dir.relativize(p) + ": " + k);
    Files.createDirectories(p.getParent());
    switch (k) {
      case REGULAR -> Files.write(p, good);
      case MISSING -> {}
      case FOLDER -> Files.createDirectories(p);
      case FIFO -> Hostile.mkfifo(p);
      case LINK_INSIDE -> {
        Path real = p.resolveSibling("real-" + p.getFileName());
        Files.write(real, good);
        Files.createSymbolicLink(p, real.getFileName());
      }
      case LINK_OUTSIDE -> {
        Path real = outside.resolve("target-" + p.getFileName());
        Files.write(real, good);
        Files.createSymbolicLink(p, real);
      }
      case HARD_LINK -> {
        Path real = outside.resolve("hard-" + p.getFileName());
        Files.write(real, good);
        Files.createLink(p, real);
      }
      case EMPTY -> Files.write(p, new byte[0]);
      case SPARSE -> Hostile.sparse(p, good, 8L << 30);
      case TRUNCATED -> Files.write(p, Arrays.copyOf(good, good.length / 2));
      default -> throw new AssertionError(k);
    }
  }

  private static final String[] HOSTILE_NAMES = {
    "../x",
    "/abs",
    "a/b",
    "a_b",
    "..",
    ".",
    ".hidden",
    "c\u0001d",
    "tab\tname",
    "\u00fcber",
    "\u6a21\u578b",
    "con:1",
    "y",
    "Y",
    "a\\b",
    "x.npy",
    "-",
    "_"
  };

  private String outputName() {
    int c = rnd.nextInt(4);
    if (c == 0) {
      return "n".repeat(100 + rnd.nextInt(300));
    }
    if (c == 1) {
      StringBuilder sb = new StringBuilder();
      for (int i = 1 + rnd.nextInt(12); i > 0; i--) {
        sb.append((char) (rnd.nextBoolean() ? 1 + rnd.nextInt(126) : 0x80 + rnd.nextInt(0x3000)));
      }
      return sb.toString();
    }
    return HOSTILE_NAMES[rnd.nextInt(HOSTILE_NAMES.length)];
  }

  private static final String[] LOCATIONS = {
    "w.bin",
    "w.bin",
    "sub/w.bin",
    "../outside/data.bin",
    "/etc/hostname",
    "",
    ".",
    "sub",
    "w.bin/../w.bin",
    "./w.bin"
  };

  /** A model: x f32[4], optionally + w (external data), with 1-4 outputs of hostile names. */
  private byte[] onnxModel(List<String> outputs, boolean external) throws Exception {
    GraphProto.Builder g =
        GraphProto.newBuilder().setName("g").addInput(OnnxModels.value("x", OnnxModels.FLOAT, 4L));
    String src = "x";
    if (external) {
      String loc = LOCATIONS[rnd.nextInt(LOCATIONS.length)];
      String[] offsets = {"0", "0", "4", "-4", "16", "9223372036854775807", null};
      String[] lengths = {"16", "16", "12", null, "17179869184"};
      long[][] dims = {{4}, {4}, {2, 2}, {1L << 28}, {-4}};
      String off = offsets[rnd.nextInt(offsets.length)];
      String len = lengths[rnd.nextInt(lengths.length)];
      long[] d = dims[rnd.nextInt(dims.length)];
      situation.add(
          "ext: location='"
              + loc
              + "' offset="
              + off
              + " length="
              + len
              + " dims="
              + Arrays.toString(d));
      TensorProto w = OnnxModels.external("w", loc, off, len, d);
      g.addInitializer(w);
      Kind k = kind(false);
      if (k == Kind.SPARSE && d.length == 1 && d[0] > 4) {
        k = Kind.REGULAR; // a valid 1 GiB read is not a hostile situation, only a slow one
      }
      if (loc.startsWith("sub/")) {
        if (rnd.nextBoolean()) {
          Files.createSymbolicLink(dir.resolve("sub"), outside);
          situation.add("sub -> outside/");
        } else {
          Files.createDirectories(dir.resolve("sub"));
        }
      }
      Path data =
          dir.resolve(loc.isEmpty() || loc.startsWith("/") || loc.startsWith("..") ? "w.bin" : loc)
              .normalize();
      if (data.startsWith(dir)
          && !Files.exists(data, LinkOption.NOFOLLOW_LINKS)
          && !data.equals(dir)) {
        place(data, k, OnnxModels.floats(1, 2, 3, 4), "external data");
      }
      g.addNode(OnnxModels.node("Add", List.of("x", "w"), List.of("s")));
      src = "s";
    }
    for (String n : outputs) {
      g.addNode(OnnxModels.node("Identity", List.of(src), List.of(n)));
      g.addOutput(OnnxModels.value(n, OnnxModels.FLOAT, 4L));
    }
    return OnnxModels.model(g.build(), 17);
  }

  /** One drawn situation and command; returns the arguments and fills {@code expect}. */
  private String[] draw(Map<String, Object> expect) throws Exception {
    int cmd = rnd.nextInt(5);
    Files.writeString(outside.resolve("data.bin"), "outside data");
    switch (cmd) {
      case 0, 1 -> {
        // compile / export-weights a.cmod -o OUT, with an import and maybe weights "..." in the
        // model
        boolean exportW = cmd == 1;
        String src = MLP;
        if (rnd.nextBoolean()) {
          place(dir.resolve("b.cmod"), kind(true), "const B = 1\n".getBytes(), "import");
          src = "import \"./b.cmod\"\n" + src;
        }
        if (rnd.nextBoolean()) {
          Map<String, Tensor> w = new TreeMap<>();
          w.put("l1.weight", Tensor.ofFloats(new long[] {4, 8}, new float[32]));
          Kind k = kind(false);
          place(
              dir.resolve("w.safetensors"), k, Safetensors.toBytes(w, Map.of()), "weights \"...\"");
          expect.put("modelNamed", k);
          src = src.replace("  input x", "  weights \"w.safetensors\"\n  input x");
        }
        place(
            dir.resolve("a.cmod"),
            rnd.nextInt(4) == 0 ? kind(true) : Kind.REGULAR,
            src.getBytes(),
            "source");
        String[] outs = {
          "out.onnx", "out.onnx", "no/dir/out.onnx", "../outside/out.onnx", "o".repeat(300)
        };
        String o = outs[rnd.nextInt(outs.length)];
        Path out = dir.resolve(o);
        if (!o.contains("/") && o.length() < 200) {
          Kind[] ok = {
            Kind.MISSING,
            Kind.MISSING,
            Kind.REGULAR,
            Kind.FOLDER,
            Kind.FIFO,
            Kind.LINK_OUTSIDE,
            Kind.LINK_INSIDE
          };
          Kind k = ok[rnd.nextInt(ok.length)];
          if (k == Kind.FIFO && !Hostile.canMakeFifo()) {
            k = Kind.MISSING;
          }
          place(out, k, "old".getBytes(), "output");
          expect.put("outKind", k);
        }
        expect.put("out", out);
        situation.add((exportW ? "export-weights" : "compile") + " -o " + o);
        return new String[] {
          exportW ? "export-weights" : "compile",
          dir.resolve("a.cmod").toString(),
          "-o",
          out.toString()
        };
      }
      case 2 -> {
        // compile with import onnx "m.onnx"
        place(
            dir.resolve("m.onnx"),
            kind(false),
            OnnxModels.identity(OnnxModels.FLOAT),
            "import onnx");
        expect.put("modelNamed", situationKind("import onnx"));
        Files.writeString(
            dir.resolve("a.cmod"),
            "import onnx \"m.onnx\" as Enc\nmodel M {\n  input x: f32[4]\n  output y = Enc(x)\n}\n");
        Path out = dir.resolve("out.onnx");
        expect.put("out", out);
        expect.put("outKind", Kind.MISSING);
        return new String[] {"compile", dir.resolve("a.cmod").toString(), "-o", out.toString()};
      }
      default -> {
        // run m.onnx [--input x=...] --output-dir outs
        List<String> names = new ArrayList<>();
        for (int i = 1 + rnd.nextInt(4); i > 0; i--) {
          names.add(outputName());
        }
        situation.add(
            "outputs "
                + names.stream().map(n -> "'" + n.replaceAll("\\p{Cntrl}", "?") + "'").toList());
        boolean ext = rnd.nextBoolean();
        Path model = dir.resolve("m.onnx");
        byte[] m = onnxModel(names, ext);
        Kind mk = rnd.nextInt(4) == 0 ? kind(true) : Kind.REGULAR;
        if (mk == Kind.SPARSE) {
          mk = Kind.TRUNCATED;
        }
        place(model, mk, m, "model");
        if (ext) {
          expect.put("modelNamed", situationKind("external data"));
        }
        List<String> args = new ArrayList<>(List.of("run", model.toString()));
        if (rnd.nextBoolean()) {
          Path x = dir.resolve("x.npy");
          place(
              x,
              kind(true),
              Npy.toBytes(Tensor.ofFloats(new long[] {4}, new float[] {1, 2, 3, 4})),
              "--input");
          args.add("--input");
          args.add("x=" + x);
        }
        Path outs = dir.resolve("outs");
        Kind[] dk = {
          Kind.MISSING, Kind.FOLDER, Kind.FOLDER, Kind.REGULAR, Kind.FIFO, Kind.LINK_INSIDE
        };
        Kind k = dk[rnd.nextInt(dk.length)];
        if (k == Kind.FIFO && !Hostile.canMakeFifo()) {
          k = Kind.MISSING;
        }
        if (k == Kind.LINK_INSIDE) {
          Files.createDirectories(dir.resolve("real-outs"));
          Files.createSymbolicLink(outs, Path.of("real-outs"));
          situation.add("--output-dir outs: LINK_INSIDE");
        } else {
          place(outs, k, "x".getBytes(), "--output-dir");
        }
        if (k == Kind.FOLDER && rnd.nextInt(3) == 0) {
          // something already at an output's file name
          String f =
              names.get(0).length() < 100 && names.get(0).matches("[A-Za-z0-9_-][A-Za-z0-9._-]*")
                  ? names.get(0) + ".npy"
                  : "y.npy";
          Kind[] pre = {Kind.FOLDER, Kind.LINK_OUTSIDE, Kind.FIFO, Kind.REGULAR};
          Kind pk = pre[rnd.nextInt(pre.length)];
          if (pk == Kind.FIFO && !Hostile.canMakeFifo()) {
            pk = Kind.FOLDER;
          }
          place(outs.resolve(f), pk, "old".getBytes(), "existing output");
        }
        expect.put("outputs", names);
        expect.put("outs", outs);
        args.add("--output-dir");
        args.add(outs.toString());
        return args.toArray(String[]::new);
      }
    }
  }

  private Kind situationKind(String role) {
    for (String s : situation) {
      if (s.startsWith(role + " ")) {
        return Kind.valueOf(s.substring(s.lastIndexOf(' ') + 1));
      }
    }
    return null;
  }

  @Test
  void randomFileSituationsKeepTheInvariants() throws Exception {
    int umaskMode = 0666 & ~Hostile.umask();
    Map<String, Integer> exits = new TreeMap<>();
    long t0 = System.nanoTime();
    for (int it = 0; it < ITERATIONS; it++) {
      long seed = SEED + it;
      rnd = new Random(seed);
      situation.clear();
      Path caseRoot = Files.createDirectories(root.resolve("it" + it));
      dir = Files.createDirectories(caseRoot.resolve("case"));
      outside = Files.createDirectories(caseRoot.resolve("outside"));
      Map<String, Object> expect = new LinkedHashMap<>();
      String[] args = draw(expect);
      Map<String, String> before = Hostile.snapshot(caseRoot);
      Cli.Run r;
      boolean blocked;
      try (Hostile.Watchdog w = new Hostile.Watchdog(caseRoot, 10_000)) {
        r = Cli.inProcess(args);
        blocked = w.fired();
      }
      List<String> broken = new ArrayList<>();
      if (r.exit() < 0 || r.exit() > 2) {
        broken.add("exit " + r.exit());
      }
      if (r.exit() == 1 && !CODE.matcher(r.err()).find()) {
        broken.add("no CM code");
      }
      if (r.all().contains("CM0900")) {
        broken.add("CM0900");
      }
      if (r.all().contains("\tat ")
          || r.all().contains("Exception in thread")
          || r.all().contains("Caused by:")) {
        broken.add("stack trace");
      }
      if (blocked) {
        broken.add("blocked on a FIFO");
      }
      if (r.millis() > 10_000) {
        broken.add("took " + r.millis() + " ms");
      }
      Object named = expect.get("modelNamed");
      if (r.exit() == 0
          && (named == Kind.LINK_INSIDE || named == Kind.LINK_OUTSIDE || named == Kind.HARD_LINK)) {
        broken.add("read a file named by the model that is a " + named);
      }
      Map<String, String> after = Hostile.snapshot(caseRoot);
      List<String> changed = Hostile.diff(before, after);
      List<String> allowed = new ArrayList<>();
      if (r.exit() == 0 && expect.containsKey("out")) {
        Path out = (Path) expect.get("out");
        String rel = caseRoot.relativize(out).normalize().toString();
        allowed.add(rel);
        if (!Files.isRegularFile(out, LinkOption.NOFOLLOW_LINKS)) {
          broken.add("output " + rel + " is not a regular file");
        } else if (Hostile.mode(out) != umaskMode) {
          broken.add("output mode " + Integer.toOctalString(Hostile.mode(out)));
        }
        Object ok = expect.get("outKind");
        if (ok != null && ok != Kind.MISSING && ok != Kind.REGULAR) {
          broken.add("wrote over a " + ok);
        }
      }
      if (r.exit() == 0 && expect.containsKey("outs")) {
        Path outs = ((Path) expect.get("outs")).toRealPath();
        @SuppressWarnings("unchecked")
        List<String> names = (List<String>) expect.get("outputs");
        String relOuts = caseRoot.relativize(outs).toString();
        allowed.add(relOuts);
        int fresh = 0;
        for (String c : changed) {
          String p = c.substring(1);
          if (p.startsWith(relOuts + "/")) {
            String f = p.substring(relOuts.length() + 1);
            if (f.contains("/") || !PLAIN.matcher(f).matches() || f.startsWith(".")) {
              broken.add("output file name '" + f + "'");
            }
            fresh++;
            allowed.add(p);
          }
        }
        if (fresh > names.size()) {
          broken.add(fresh + " files for " + names.size() + " outputs");
        }
      }
      for (String c : changed) {
        String p = c.substring(1);
        if (!allowed.contains(p)) {
          broken.add((p.startsWith("outside") ? "changed outside: " : "left/changed: ") + c);
        }
      }
      exits.merge(r.exit() + (r.exit() == 1 ? " " + firstCode(r) : ""), 1, Integer::sum);
      assertTrue(
          broken.isEmpty(),
          "seed "
              + seed
              + " (iteration "
              + it
              + ", -Dcmod.situations.seed="
              + seed
              + " -Dcmod.situations.iterations=1 replays it): "
              + broken
              + "\nsituation: "
              + situation
              + "\ncommand: "
              + String.join(" ", args)
              + "\nexit "
              + r.exit()
              + "\n"
              + excerpt(r.all()));
    }
    System.out.printf(
        "file situations: %d iterations in %.1f s, outcomes %s%n",
        ITERATIONS, (System.nanoTime() - t0) / 1e9, exits);
  }

  private static String firstCode(Cli.Run r) {
    java.util.regex.Matcher m = CODE.matcher(r.err());
    return m.find() ? m.group().substring(6, 12) : "?";
  }

  private static String excerpt(String s) {
    return s.length() > 3000 ? s.substring(0, 3000) + "..." : s;
  }
}
