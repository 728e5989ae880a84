/**
 * Preprocessing of real media for model inputs: the steps a {@code .cmod} input declares between a
 * decoded file and the tensor the model takes. Images are float planes, channels first ({@link
 * dev.cmod.ir.media.Planes}); audio is float samples, channels × frames ({@link
 * dev.cmod.ir.media.Clip}). {@link dev.cmod.ir.media.ImageSteps} converts colour, resizes with
 * PIL's resampling ({@link dev.cmod.ir.media.Interpolation}), crops, pads and normalizes; {@link
 * dev.cmod.ir.media.AudioSteps} mixes, resamples ({@link dev.cmod.ir.media.PolyphaseResampler}, the
 * algorithm of SciPy's {@code resample_poly}), pads, trims and chunks; {@link
 * dev.cmod.ir.media.MediaFiles} decodes files with the bounds these steps assume.
 *
 * <p>Each step is defined to give the numbers the Python tools users preprocess with give (PIL,
 * torchvision, numpy, SciPy), so a model trained with those sees the same inputs from cmod; the
 * tests hold every step to those tools. Every refusal is a {@link dev.cmod.ir.media.MediaException}
 * with a message and a help text for the user, raised before any large allocation.
 */
package dev.cmod.ir.media;
