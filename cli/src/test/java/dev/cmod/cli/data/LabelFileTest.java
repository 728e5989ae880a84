package dev.cmod.cli.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cmod.ir.tensor.Tensor;
import dev.cmod.ir.type.DType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LabelFileTest {
  @TempDir Path dir;

  private Path file(String text) throws Exception {
    Path p = dir.resolve("labels.txt");
    Files.writeString(p, text);
    return p;
  }

  @Test
  void lineIIsClassI() throws Exception {
    LabelFile l = LabelFile.read(file("\uFEFFcat\r\ndog\r\n  golden retriever \r\nparrot\n\n \n"));
    assertEquals(List.of("cat", "dog", "golden retriever", "parrot"), l.labels());
    assertEquals(0, l.indexOf("cat"));
    assertEquals(2, l.indexOf(" golden retriever"));
    assertEquals(3, l.indexOf("parrot"));
    l.checkCount(4);
    Tensor t = l.indices(List.of("parrot", "cat"), DType.I64);
    assertArrayEquals(new long[] {2}, t.shape());
    assertArrayEquals(new long[] {3, 0}, t.longs());
  }

  @Test
  void aLabelNotInTheFileNamesTheClosest() throws Exception {
    LabelFile l = LabelFile.read(file("cat\ndog\ncar\nparrot\nhorse\n"));
    DataException e = assertThrows(DataException.class, () -> l.indexOf("Cats"));
    assertTrue(e.getMessage().contains("'Cats' is not a label"), e.getMessage());
    assertEquals(
        "the closest labels are 'cat', 'car'", e.help(), "'dog' shares nothing with 'Cats'");
    assertEquals(List.of("parrot"), l.closest("parot", 1));
    assertEquals(3, dev.cmod.ir.EditDistance.of("kitten", "sitting"));
    assertEquals(List.of(), l.closest("zzzzzzzzzz", 3), "nothing shared: no suggestion");
  }

  @Test
  void theCountMustBeTheDeclaredOne() throws Exception {
    LabelFile l = LabelFile.read(file("a\nb\nc\n"));
    DataException e = assertThrows(DataException.class, () -> l.checkCount(50));
    assertTrue(e.getMessage().contains("names 3 classes, the declaration has 50"), e.getMessage());
  }

  @Test
  void blankLinesBetweenLabelsAndDuplicatesAreErrors() throws Exception {
    Path blank = file("a\n\nb\n");
    assertTrue(
        assertThrows(DataException.class, () -> LabelFile.read(blank))
            .getMessage()
            .contains("line 2"));
    Path dup = file("a\nb\n a\n");
    assertTrue(
        assertThrows(DataException.class, () -> LabelFile.read(dup))
            .getMessage()
            .contains("'a' is on lines 1 and 3"));
    Path none = file("\n\n");
    assertTrue(
        assertThrows(DataException.class, () -> LabelFile.read(none))
            .getMessage()
            .contains("no labels"));
  }
}
