// The dashboard's entry: styles, then the app into #app.
import { render } from "preact";
import "uplot/dist/uPlot.min.css";
import "./dashboard.css";
import { App } from "./App.jsx";

render(<App />, document.getElementById("app"));
