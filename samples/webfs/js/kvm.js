// Launch the Java iKVM viewer (sample). The viewer starts a local stunnel client that
// presents res/client.crt from the jar to the BMC's stunnel [ikvm] service.
var KVM_JAR = "iKVM__V1.69.38.0x0.jar";
var KVM_PORT = 5900;
function launchKvm() {
  var jnlp = "<jnlp spec=\"1.0+\" codebase=\"" + location.origin + "/\">" +
             "<resources><jar href=\"" + KVM_JAR + "\" main=\"true\"/></resources>" +
             "<application-desc main-class=\"tw.com.aten.ikvm.KVMMain\">" +
             "<argument>" + location.hostname + "</argument>" +
             "<argument>" + KVM_PORT + "</argument></application-desc></jnlp>";
  var blob = new Blob([jnlp], { type: "application/x-java-jnlp-file" });
  window.location = URL.createObjectURL(blob);
}
