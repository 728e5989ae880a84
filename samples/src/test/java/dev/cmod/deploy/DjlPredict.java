package dev.cmod.deploy;

import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import dev.cmod.ir.io.Npy;
import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/**
 * One request to a DJL model folder, in a JVM of its own: DJL's ONNX Runtime engine creates the
 * process's one ONNX Runtime environment with its own thread options and refuses to start where
 * another (cmod's) exists, so {@link DjlLayoutTest} runs this as a child process.
 *
 * <p>Arguments: the model folder, the output folder, then {@code NAME=FILE.npy} per input in the
 * graph's order. The engine is the one the folder's {@code serving.properties} names (DJL's loader
 * reads that file). Writes {@code out-I.npy} for the I-th output and {@code seen.properties}: the
 * batching properties the loader read and the engine it loaded the model on.
 */
public final class DjlPredict {
  private DjlPredict() {}

  public static void main(String[] args) throws Exception {
    Path folder = Path.of(args[0]);
    Path out = Path.of(args[1]);
    Criteria<NDList, NDList> criteria =
        Criteria.builder().setTypes(NDList.class, NDList.class).optModelPath(folder).build();
    try (ZooModel<NDList, NDList> model = criteria.loadModel();
        Predictor<NDList, NDList> predictor = model.newPredictor();
        NDManager m = model.getNDManager().newSubManager()) {
      NDList request = new NDList();
      for (int i = 2; i < args.length; i++) {
        String[] kv = args[i].split("=", 2);
        Tensor t = Npy.read(Path.of(kv[1]));
        NDArray a =
            t.isFloat()
                ? m.create(t.floats(), new Shape(t.shape()))
                : m.create(t.longs(), new Shape(t.shape()));
        a.setName(kv[0]);
        request.add(a);
      }
      NDList answer = predictor.predict(request);
      // what DJL's loader read from the folder's serving.properties, and the engine it chose
      Properties seen = new Properties();
      for (String k : new String[] {"batch_size", "max_batch_delay"}) {
        String v = model.getProperty(k);
        if (v != null) {
          seen.setProperty(k, v);
        }
      }
      seen.setProperty("engine", model.getNDManager().getEngine().getEngineName());
      try (Writer w = Files.newBufferedWriter(out.resolve("seen.properties"))) {
        seen.store(w, null);
      }
      for (int i = 0; i < answer.size(); i++) {
        NDArray a = answer.get(i);
        long[] shape = a.getShape().getShape();
        Tensor t;
        if (a.getDataType() == DataType.FLOAT32) {
          t = Tensor.ofFloats(DType.F32, shape, a.toFloatArray());
        } else if (a.getDataType() == DataType.INT64) {
          t = Tensor.ofLongs(DType.I64, shape, a.toLongArray());
        } else {
          throw new IllegalStateException("output " + i + " is " + a.getDataType());
        }
        Npy.write(out.resolve("out-" + i + ".npy"), t);
      }
    }
  }
}
