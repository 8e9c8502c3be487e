package data_test

import (
	"fmt"
	"log"
	"strings"

	"github.com/layersim/layersim/lcka/data"
)

func ExampleLoad() {
	p, err := data.Load("builtin", []string{"en", "hi"}, 2, data.Options{})
	if err != nil {
		log.Fatal(err)
	}
	for i, id := range p.IDs {
		fmt.Printf("%s [%s]\n  en: %s\n  hi: %s\n", id, p.Subjects[i], p.Text("en", i), p.Text("hi", i))
	}
	// Output:
	// sci-01 [science]
	//   en: Water boils at 100 degrees Celsius at sea level.
	//   hi: समुद्र तल पर पानी 100 डिग्री सेल्सियस पर उबलता है।
	// sci-02 [science]
	//   en: Plants make their food through photosynthesis.
	//   hi: पौधे प्रकाश संश्लेषण द्वारा अपना भोजन बनाते हैं।
}

func ExampleReadCSV() {
	csv := "id,en,hi\ng1,Good morning!,सुप्रभात!\ng2,Thank you.,\n"
	_, err := data.ReadCSV(strings.NewReader(csv), nil)
	fmt.Println(err)
	// Output:
	// data: line 3 (id "g2"), language "hi": empty text
}

func ExampleMMLURow_Text() {
	row := data.MMLURow{Question: "What is 2 + 3?", OptionA: "4", OptionB: "5", OptionC: "6", OptionD: "23"}
	fmt.Println(row.Text(data.QuestionWithOptions))
	// Output:
	// Question: What is 2 + 3?
	// A. 4
	// B. 5
	// C. 6
	// D. 23
	// Answer:
}
