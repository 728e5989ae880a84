package dev.cmod.cli.serve;

import dev.cmod.compiler.Compilation;
import dev.cmod.compiler.diag.Excerpt;
import dev.cmod.ir.tensor.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The HTTP side of {@code cmod serve}: a Jetty server answering KServe's v2 REST protocol for one
 * model. It owns the {@link Batcher} (and through it the model runner) and enforces the limits a
 * shared development server needs: a body larger than {@link Config#maxRequestBytes} is refused
 * from its declared length or as soon as it grows past the limit, never read in full; a full queue
 * answers 503 at once. {@link #stop} is graceful: the port closes, requests in flight get their
 * answers, and only then is the session closed. Every error is a v2 error body; no stack trace
 * leaves the process.
 */
public final class InferenceServer {
  static {
    // Jetty logs through SLF4J; without a provider SLF4J would print a warning to stderr
    if (System.getProperty("slf4j.internal.verbosity") == null) {
      System.setProperty("slf4j.internal.verbosity", "ERROR");
    }
  }

  /**
   * Where and how to serve.
   *
   * @param port 0 for any free port ({@link #port()} tells which)
   * @param maxBatch the most rows one merged run holds (1: no merging)
   * @param maxDelayMillis how long the oldest queued request waits for others to join its run
   * @param maxQueue how many requests may wait for the model
   * @param maxRequestBytes the largest request body read
   * @param stopMillis how long {@link #stop} waits for requests in flight
   */
  public record Config(
      String host,
      int port,
      int maxBatch,
      long maxDelayMillis,
      int maxQueue,
      long maxRequestBytes,
      long stopMillis) {}

  private final String model;
  private final ModelSignature sig;
  private final Set<String> adapters;
  private final Config config;
  private final Batcher batcher;
  private final Server server;
  private final ServerConnector connector;
  private final Consumer<String> log;
  private final CountDownLatch stopped = new CountDownLatch(1);
  private volatile boolean ready;
  private boolean stopping;

  private InferenceServer(
      String model,
      ModelSignature sig,
      ModelRunner runner,
      Set<String> adapters,
      Config config,
      Consumer<String> log) {
    this.model = model;
    this.sig = sig;
    this.adapters = Set.copyOf(adapters);
    this.config = config;
    this.log = log;
    QueuedThreadPool pool = new QueuedThreadPool(32, 4);
    pool.setName("cmod-serve");
    pool.setDaemon(true);
    this.server = new Server(pool);
    HttpConfiguration http = new HttpConfiguration();
    http.setSendServerVersion(false);
    http.setSendXPoweredBy(false);
    this.connector = new ServerConnector(server, 1, 1, new HttpConnectionFactory(http));
    connector.setHost(config.host());
    connector.setPort(config.port());
    server.addConnector(connector);
    server.setHandler(new GracefulHandler(new V2Handler()));
    server.setErrorHandler(new JsonErrors());
    server.setStopTimeout(config.stopMillis());
    server.setStopAtShutdown(false);
    this.batcher =
        new Batcher(runner, sig, config.maxBatch(), config.maxDelayMillis(), config.maxQueue());
  }

  /**
   * Starts serving {@code runner} as model {@code model}.
   *
   * @param adapters the run-time adapters a request may name in its {@code adapter} parameter
   * @param log where the server reports what the client is not told (internal failures)
   * @throws IOException when the address cannot be bound (then the runner is closed)
   */
  public static InferenceServer start(
      String model,
      ModelSignature sig,
      ModelRunner runner,
      Set<String> adapters,
      Config config,
      Consumer<String> log)
      throws IOException {
    InferenceServer s = new InferenceServer(model, sig, runner, adapters, config, log);
    try {
      s.server.start();
    } catch (Exception e) {
      s.batcher.close();
      try {
        s.server.stop();
      } catch (Exception ignored) {
        // it did not start
      }
      throw e instanceof IOException io ? io : new IOException(e.getMessage(), e);
    }
    s.ready = true;
    return s;
  }

  /** The port the server listens on. */
  public int port() {
    return connector.getLocalPort();
  }

  /** The base address, {@code http://HOST:PORT}. */
  public URI uri() {
    String h = config.host().contains(":") ? "[" + config.host() + "]" : config.host();
    return URI.create("http://" + h + ":" + port());
  }

  /** The batcher, for its counts of runs and requests. */
  public Batcher batcher() {
    return batcher;
  }

  /**
   * Stops gracefully: closes the port, answers the requests in flight (new ones on open connections
   * get 503), then closes the batcher and the model runner. Safe to call twice and from a shutdown
   * hook.
   */
  public void stop() {
    synchronized (this) {
      if (stopping) {
        awaitStop();
        return;
      }
      stopping = true;
    }
    ready = false;
    try {
      server.stop();
    } catch (Exception e) {
      log.accept("cmod serve: stopping the HTTP server: " + e);
    }
    batcher.close();
    stopped.countDown();
  }

  /** Waits until {@link #stop} has finished. */
  public void awaitStop() {
    boolean interrupted = false;
    while (stopped.getCount() > 0) {
      try {
        stopped.await();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /** The v2 routes. */
  private final class V2Handler extends Handler.Abstract {
    @Override
    public boolean handle(Request request, Response response, Callback callback) {
      try {
        route(request, response, callback);
      } catch (V2Error e) {
        send(response, callback, e.status, V2Json.error(e.getMessage()));
      } catch (RuntimeException e) {
        log.accept("cmod serve: internal error: " + e);
        send(response, callback, 500, V2Json.error("internal server error"));
      }
      return true;
    }

    private void route(Request request, Response response, Callback callback) {
      String path = unversioned(request.getHttpURI().getDecodedPath());
      String method = request.getMethod();
      String prefix = "/v2/models/" + model;
      switch (path) {
        case "/v2/health/live" -> {
          get(method);
          send(response, callback, 200, V2Json.object("live", true));
        }
        case "/v2/health/ready" -> {
          get(method);
          if (!ready) {
            throw new V2Error(503, "the server is not ready");
          }
          send(response, callback, 200, V2Json.object("ready", true));
        }
        case "/v2" -> {
          get(method);
          send(
              response,
              callback,
              200,
              V2Json.object("name", "cmod", "version", Compilation.VERSION));
        }
        default -> {
          if (path.equals(prefix)) {
            get(method);
            send(response, callback, 200, V2Json.modelMetadata(model, sig));
          } else if (path.equals(prefix + "/ready")) {
            get(method);
            send(
                response,
                callback,
                ready ? 200 : 503,
                V2Json.object("name", model, "ready", ready));
          } else if (path.equals(prefix + "/infer")) {
            if (!method.equals("POST")) {
              throw new V2Error(405, "infer takes POST, not " + method);
            }
            infer(request, response, callback);
          } else if (path.startsWith("/v2/models/")) {
            throw new V2Error(
                404,
                "no model '"
                    + Excerpt.of(modelOf(path), 200)
                    + "'; this server serves '"
                    + model
                    + "'");
          } else {
            throw new V2Error(404, "no such path: " + Excerpt.of(path, 200));
          }
        }
      }
    }

    private void infer(Request request, Response response, Callback callback) {
      byte[] body = body(request);
      V2Json.InferRequest req = V2Json.parseInfer(body, sig);
      if (req.adapter() != null && !adapters.contains(req.adapter())) {
        throw new V2Error(
            400,
            "no adapter '"
                + Excerpt.of(req.adapter(), 200)
                + "'"
                + (adapters.isEmpty()
                    ? "; this model has no run-time adapters"
                    : "; its adapters are " + adapters));
      }
      CompletableFuture<Map<String, Tensor>> done = batcher.submit(req);
      done.whenCompleteAsync(
          (results, failure) -> {
            if (failure != null) {
              Throwable cause = failure.getCause() != null ? failure.getCause() : failure;
              String why = cause.getMessage() != null ? cause.getMessage() : cause.toString();
              send(
                  response,
                  callback,
                  500,
                  V2Json.error("inference failed: " + Excerpt.of(why, 2000)));
              return;
            }
            byte[] out;
            try {
              out = V2Json.inferResponse(model, req.id(), results, req.outputs());
            } catch (RuntimeException e) {
              log.accept("cmod serve: writing a response: " + e);
              send(response, callback, 500, V2Json.error("internal server error"));
              return;
            }
            send(response, callback, 200, out);
          },
          server.getThreadPool());
    }

    /** The body, refused with 413 past the limit: by its declared length, or as it arrives. */
    private byte[] body(Request request) {
      long max = config.maxRequestBytes();
      long declared = request.getLength();
      if (declared > max) {
        throw tooLarge(declared + " bytes");
      }
      byte[] body;
      try {
        InputStream in = Content.Source.asInputStream(request);
        body = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, max + 1));
      } catch (IOException | RuntimeException e) {
        // the client went away, or sent a broken chunked body
        throw new V2Error(400, "the request body could not be read");
      }
      if (body.length > max) {
        throw tooLarge("more than " + max + " bytes");
      }
      return body;
    }

    private V2Error tooLarge(String size) {
      return new V2Error(
          413,
          "the request body is "
              + size
              + ", more than the limit of "
              + config.maxRequestBytes()
              + " bytes (cmod serve --max-request-bytes)");
    }
  }

  private static void get(String method) {
    if (!method.equals("GET")) {
      throw new V2Error(405, "this path takes GET, not " + method);
    }
  }

  /**
   * The path without the version segment of {@code /v2/models/NAME/versions/1/...}: the model has
   * the one version {@code 1}; another version is unknown.
   */
  private String unversioned(String path) {
    String versions = "/v2/models/" + model + "/versions/";
    if (!path.startsWith(versions)) {
      return path;
    }
    String rest = path.substring(versions.length());
    int slash = rest.indexOf('/');
    String version = slash < 0 ? rest : rest.substring(0, slash);
    if (!version.equals("1")) {
      throw new V2Error(
          404, "model '" + model + "' has no version '" + Excerpt.of(version, 100) + "' (only 1)");
    }
    return "/v2/models/" + model + (slash < 0 ? "" : rest.substring(slash));
  }

  private static String modelOf(String path) {
    String rest = path.substring("/v2/models/".length());
    int slash = rest.indexOf('/');
    return slash < 0 ? rest : rest.substring(0, slash);
  }

  private static void send(Response response, Callback callback, int status, byte[] body) {
    response.setStatus(status);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
    response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
    response.write(true, ByteBuffer.wrap(body), callback);
  }

  /**
   * Jetty's own refusals (a malformed request line, a 503 while stopping) as v2 error bodies, with
   * no stack trace.
   */
  private static final class JsonErrors extends ErrorHandler {
    @Override
    public boolean handle(Request request, Response response, Callback callback) {
      int status = response.getStatus();
      Object message = request.getAttribute(ERROR_MESSAGE);
      String text = message instanceof String s && !s.isEmpty() ? s : HttpStatus.getMessage(status);
      send(response, callback, status, V2Json.error(Excerpt.of(text, 500)));
      return true;
    }
  }
}
